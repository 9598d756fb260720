"""Reversals by operators: a compensating transfer naming the original, never an edit; what may be reversed."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ledger import Ledger, TransferFlag, TransferResult, TransferStatus
from ledger.db import READ_ONLY
from ledger.tables import transfers as transfers_t

#: system accounts whose transfers have their own undo: escrow (claimed or returned), conversions (FX), trade fills
OWN_UNDO = {"escrow": "escrow", "fx_liquidity": "conversion", "broker_omnibus": "trade", "fees": "fee"}


@dataclass(frozen=True)
class Reversible:
    """Whether a transfer may be reversed by an operator, and how much of it is left to reverse."""

    ok: bool
    why: str = ""  # not_found, hold, escrow, conversion, trade, fee, reversal, nothing_left, too_much
    amount: int = 0  # what this reversal would send back, minor units
    remaining: int = 0  # what is left to reverse before this one
    asset: str = ""
    debit_owner: str = ""  # the owner the original debited (gets money back)
    credit_owner: str = ""  # the owner the original credited (gives it back)


def reversed_so_far(ledger: Ledger, transfer_id: str) -> int:
    """Minor units already sent back by reversals of this transfer."""
    t = transfers_t
    with ledger.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        got = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(t.c.amount), 0)).where(t.c.reverses_id == transfer_id)).scalar()
    return int(got or 0)


def check(ledger: Ledger, transfer_id: str, amount: int | None) -> Reversible:
    """May `transfer_id` be reversed by `amount` minor units (all that is left when None)?"""
    o = ledger.lookup_transfer(transfer_id)
    if o is None:
        return Reversible(False, "not_found")
    if o.flags & (TransferFlag.PENDING | TransferFlag.POST_PENDING_TRANSFER | TransferFlag.VOID_PENDING_TRANSFER) \
            or o.status != TransferStatus.POSTED:
        return Reversible(False, "hold")
    if o.reverses_id is not None:
        return Reversible(False, "reversal")
    debit = ledger.get_account(o.debit_account_id)
    credit = ledger.get_account(o.credit_account_id)
    assert debit is not None and credit is not None
    for acc in (debit, credit):
        if acc.kind in OWN_UNDO:
            return Reversible(False, OWN_UNDO[acc.kind])
        if acc.kind == "position" or ":" in acc.asset:
            return Reversible(False, "trade")
    remaining = o.amount - reversed_so_far(ledger, transfer_id)
    base = dict(asset=o.asset, debit_owner=debit.owner, credit_owner=credit.owner, remaining=remaining)
    if remaining <= 0:
        return Reversible(False, "nothing_left", **base)  # type: ignore[arg-type]
    want = remaining if amount is None else amount
    if want > remaining:
        return Reversible(False, "too_much", amount=want, **base)  # type: ignore[arg-type]
    return Reversible(True, "", amount=want, **base)  # type: ignore[arg-type]


def reversal_id(approval_id: str) -> str:
    """The compensating transfer's id: derived from the approval, so approving twice reverses once."""
    return f"op:{approval_id}:rev"


def reverse(ledger: Ledger, transfer_id: str, approval_id: str, amount: int, reason: str) -> TransferResult:
    """Create the compensating transfer (the ledger refuses more than is left to reverse)."""
    return ledger.reverse(transfer_id, reversal_id(approval_id), amount=amount, memo=f"reversal: {reason}"[:200])
