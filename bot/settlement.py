"""Deposits a provider settles later: a pending transfer, posted when the provider confirms, voided when it fails
or its time runs out (the ledger's own timeout); payouts it fails later are sent back to the wallet."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from bot.actions import money_text
from bot.events import Reply, ReplyKind
from bot.i18n import t
from bot.models import Action, User
from ledger import Ledger, ResultCode, TransferFlag, TransferSpec, TransferStatus

log = logging.getLogger("finbot.settlement")

SUCCEEDED, FAILED = "succeeded", "failed"


def deposit_id(key: str) -> str:
    """The deposit's ledger transfer (the hold while pending): the executor's `<run id>:0`."""
    return f"{key}:0"


def pending_deposit(key: str, source: int, wallet: int, amount: int, timeout_seconds: int) -> TransferSpec:
    """The hold of a deposit the provider has accepted but not settled: expires (is voided) after the timeout."""
    return TransferSpec(id=deposit_id(key), debit_account_id=source, credit_account_id=wallet, amount=amount,
                        flags=TransferFlag.PENDING, timeout_seconds=timeout_seconds, memo="top-up (pending)")


@dataclass(frozen=True)
class Settled:
    """What a settlement did: posted, voided, reversed, already (settled before), expired or unknown."""

    outcome: str
    replies: list[Reply]


def _owner_user(ledger: Ledger, account_id: int) -> int | None:
    acc = ledger.get_account(account_id)
    if acc is None or not acc.owner.startswith("user:"):
        return None
    return int(acc.owner.split(":", 1)[1])


def _tell(db: sa.Engine, user_id: int | None, what: str, amount: int, currency: str) -> list[Reply]:
    if user_id is None:
        return []
    with Session(db) as s:
        user = s.get(User, user_id)
        if user is None or not user.private_chat_id:
            return []
        lang, money = user.lang, money_text(amount, currency, user.lang)
        text = {
            "posted": t(lang, "Your top-up of {amount} arrived ✅", amount=money),
            "voided": t(lang, "Your top-up of {amount} failed at the bank: nothing was added.", amount=money),
            "reversed": t(lang, "Your withdrawal of {amount} failed at the bank: the money is back in your wallet.", amount=money),
        }[what]
        return [Reply(ReplyKind.message, user.private_chat_id, text)]


def settle(db: sa.Engine, ledger: Ledger, key: str, direction: str, status: str) -> Settled:
    """Apply the provider's word on the operation `key` (collect or payout), once: a redelivered webhook finds the
    ledger already decided and changes nothing."""
    if direction == "payout":
        return _settle_payout(db, ledger, key, status)
    hold = ledger.lookup_transfer(deposit_id(key))
    if hold is None or not hold.flags & TransferFlag.PENDING:
        return Settled("unknown", [])
    if hold.status != TransferStatus.PENDING:
        return Settled("expired" if hold.status == TransferStatus.EXPIRED else "already", [])
    ok = status == SUCCEEDED
    flag = TransferFlag.POST_PENDING_TRANSFER if ok else TransferFlag.VOID_PENDING_TRANSFER
    res = ledger.create_transfer(TransferSpec(id=f"{hold.id}:{'post' if ok else 'void'}", debit_account_id=0, credit_account_id=0,
                                              amount=0, pending_id=hold.id, flags=flag,
                                              memo="top-up" if ok else "top-up failed"))
    if res.result in (ResultCode.pending_transfer_expired,):
        return Settled("expired", [])
    if not res.ok:
        return Settled("already", [])
    _note_action(db, key, "settled" if ok else "funding_failed")
    who = _owner_user(ledger, hold.credit_account_id)
    done = "posted" if ok else "voided"
    return Settled(done, _tell(db, who, done, hold.amount, hold.asset))


def _settle_payout(db: sa.Engine, ledger: Ledger, key: str, status: str) -> Settled:
    out = ledger.lookup_transfer(deposit_id(key))
    if out is None:
        return Settled("unknown", [])
    if status == SUCCEEDED:
        return Settled("already", [])
    back = ledger.reverse(out.id, f"{out.id}:reversal", memo="payout failed")
    if back.result == ResultCode.exists:
        return Settled("already", [])
    if not back.ok:
        log.error("payout %s failed at the provider but could not be sent back: %s", key, back.result)
        return Settled("unknown", [])
    _note_action(db, key, "funding_failed")
    who = _owner_user(ledger, out.debit_account_id)
    return Settled("reversed", _tell(db, who, "reversed", out.amount, out.asset))


def _note_action(db: sa.Engine, key: str, result: str) -> None:
    """Note the settlement on the action the run id belongs to (its id is the key without an attempt suffix)."""
    action_id = re.sub(r":try\d+$", "", key)
    with Session(db) as s:
        a = s.get(Action, action_id)
        if a is not None and a.result in ("pending", None, "ok"):
            a.result = result
            s.commit()

