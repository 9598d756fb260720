"""The sandbox funding source: approves every deposit and payout up to a per-operation cap."""

from __future__ import annotations

from bot.funding import FundingResult


class SandboxFunding:
    """Approves deposits and payouts up to `cap_minor`, idempotently on the key."""

    account_kind = "sandbox_funding"
    settle_timeout_seconds = 0  # settles at once

    def __init__(self, cap_minor: int = 10_000_000) -> None:
        self.cap_minor = cap_minor
        self.seen: dict[str, FundingResult] = {}

    def _decide(self, key: str, amount_minor: int) -> FundingResult:
        if key in self.seen:
            return self.seen[key]
        if amount_minor > self.cap_minor:
            result = FundingResult(False, reason="over_sandbox_cap")
        else:
            result = FundingResult(True, reference="sbx-" + key)
        self.seen[key] = result
        return result

    def collect(self, key: str, user_ref: str, amount_minor: int, currency: str) -> FundingResult:
        """Approve a sandbox deposit."""
        return self._decide("in:" + key, amount_minor)

    def payout(self, key: str, user_ref: str, amount_minor: int, currency: str) -> FundingResult:
        """Approve a sandbox payout."""
        return self._decide("out:" + key, amount_minor)
