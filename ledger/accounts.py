"""Accounts and their balances as the ledger hands them out."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.flags import AccountFlag

WALLET = "wallet"
SYSTEM_OWNER = "system"
SYSTEM_KINDS = frozenset(
    {"sandbox_funding", "provider_funding", "payouts", "fees", "broker_omnibus", "fx_liquidity", "escrow"}
)
# system accounts that only ever hold money received (escrow waits for a payee, payouts and fees
# collect): their debits must not exceed their credits. The others are two-sided by design: a
# funding source goes negative as it pays in, the broker's omnibus and FX liquidity swing both ways.
SYSTEM_FLAGS: dict[str, AccountFlag] = {
    "escrow": AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS,
    "payouts": AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS,
    "fees": AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS,
}


@dataclass(frozen=True)
class Account:
    """One account: an owner's holding of one asset, of one kind (wallet, or a system role)."""

    id: int
    owner: str
    asset: str
    kind: str
    flags: AccountFlag
    label: str | None


@dataclass(frozen=True)
class Balance:
    """The four counters of an account, in minor units, and the balances derived from them."""

    account_id: int
    asset: str
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int

    @property
    def posted(self) -> int:
        """Credits minus debits, posted only."""
        return self.credits_posted - self.debits_posted

    @property
    def pending(self) -> int:
        """Credits minus debits held by pending transfers."""
        return self.credits_pending - self.debits_pending

    @property
    def available(self) -> int:
        """What can still be spent: posted balance less pending debits."""
        return self.credits_posted - self.debits_posted - self.debits_pending
