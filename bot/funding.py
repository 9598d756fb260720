"""The funding port: where deposits come from and withdrawals go (a sandbox by default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FundingResult:
    """Whether the outside world accepted a deposit or payout, and its reference."""

    ok: bool
    reference: str = ""
    reason: str | None = None


class FundingPort(Protocol):
    """A source of deposits and a destination of payouts, idempotent on `key`."""

    def collect(self, key: str, user_ref: str, amount_minor: int, currency: str) -> FundingResult:
        """Pull money in for a deposit."""
        ...

    def payout(self, key: str, user_ref: str, amount_minor: int, currency: str) -> FundingResult:
        """Push money out for a withdrawal."""
        ...
