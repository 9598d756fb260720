"""The funding port: where deposits come from and withdrawals go (a sandbox by default, or a provider's API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FundingResult:
    """Whether the outside world accepted a deposit or payout, and its reference. `pending`: accepted, but
    settled later (the provider's webhook says whether it succeeded; bot/settlement.py)."""

    ok: bool
    reference: str = ""
    reason: str | None = None
    pending: bool = False


class FundingPort(Protocol):
    """A source of deposits and a destination of payouts, idempotent on `key`.

    `account_kind` names the ledger's system account the money comes from and goes back to;
    `settle_timeout_seconds` is how long a pending deposit may wait for its settlement (0: never pending)."""

    account_kind: str
    settle_timeout_seconds: int

    def collect(self, key: str, user_ref: str, amount_minor: int, currency: str) -> FundingResult:
        """Pull money in for a deposit."""
        ...

    def payout(self, key: str, user_ref: str, amount_minor: int, currency: str) -> FundingResult:
        """Push money out for a withdrawal."""
        ...
