"""Group money held on the ledger: pending transfers into the system's group-hold account, posted on to a payee
or voided back. The ledger makes post and void of one hold exclusive and every id single, so a claim, a close, a
cancel or an expiry racing each other (or run twice after a crash) settle each hold once."""

from __future__ import annotations

from ledger import AccountFlag, Ledger, ResultCode, TransferFlag, TransferSpec, TransferStatus
from ledger.accounts import SYSTEM_OWNER

KIND = "group_hold"
HELD, POSTED, VOIDED = "held", "posted", "voided"


def account(ledger: Ledger, currency: str) -> int:
    """The id of the system's group-hold account in `currency` (it only holds what it received)."""
    return ledger.open_account(SYSTEM_OWNER, currency, KIND, AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS).id


def hold(transfer_id: str, source: int, held: int, amount: int, *, linked: bool = False, memo: str | None = None) -> TransferSpec:
    """A hold of `amount` from a wallet into the group-hold account."""
    flags = TransferFlag.PENDING | (TransferFlag.LINKED if linked else TransferFlag.NONE)
    return TransferSpec(id=transfer_id, debit_account_id=source, credit_account_id=held, amount=amount, flags=flags, memo=memo)


def fate(ledger: Ledger, transfer_id: str) -> str | None:
    """What the ledger says became of a hold: held, posted or voided (None: no such hold)."""
    t = ledger.lookup_transfer(transfer_id)
    if t is None or not t.flags & TransferFlag.PENDING:
        return None
    if t.status == TransferStatus.PENDING:
        return HELD
    return POSTED if t.status == TransferStatus.POSTED else VOIDED


def _decided(code: ResultCode) -> str | None:
    if code == ResultCode.pending_transfer_already_posted:
        return POSTED
    if code in (ResultCode.pending_transfer_already_voided, ResultCode.pending_transfer_expired):
        return VOIDED
    return None


def pay_out(ledger: Ledger, transfer_id: str, held: int, wallet: int, amount: int, memo: str) -> str | None:
    """Post the hold and pay it on to `wallet` in one linked batch (ids derived from the hold's); the fate settled."""
    post, pay = ledger.create_transfers([
        TransferSpec(id=f"{transfer_id}:post", debit_account_id=0, credit_account_id=0, amount=0, pending_id=transfer_id,
                     flags=TransferFlag.POST_PENDING_TRANSFER | TransferFlag.LINKED, memo=memo),
        TransferSpec(id=f"{transfer_id}:pay", debit_account_id=held, credit_account_id=wallet, amount=amount, memo=memo),
    ])
    if post.ok and pay.ok:
        return POSTED
    return _decided(post.result) or fate(ledger, transfer_id)


def give_back(ledger: Ledger, transfer_id: str, memo: str) -> str | None:
    """Void the hold (the money goes back where it came from); the fate settled."""
    res = ledger.create_transfer(TransferSpec(id=f"{transfer_id}:void", debit_account_id=0, credit_account_id=0, amount=0,
                                              pending_id=transfer_id, flags=TransferFlag.VOID_PENDING_TRANSFER, memo=memo))
    if res.ok:
        return VOIDED
    return _decided(res.result) or fate(ledger, transfer_id)
