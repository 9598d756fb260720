"""Money sent to a handle that never wrote to the bot. It waits as a hold (a pending transfer from the
sender's wallet to the escrow account); its one fate is a ledger fact: the hold is posted on to the payee
when they claim it, or voided back to the sender by the sweep once the escrow days are over. The ledger
makes post and void exclusive, so no race or crash can pay both.

The hold has no ledger timeout on purpose: the ledger expires holds by the clock of whichever process
touches it (a `finbot ledger balances` run on real time after a simulated week would return money the
simulated world still holds). The engine's sweep, on the engine's clock, decides when the days are over."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.actions import attempt_id
from bot.models import Action, Escrow, Schedule
from ledger import Ledger, ResultCode, TransferFlag, TransferSpec, TransferStatus

log = logging.getLogger("finbot.escrow")

HELD, CLAIMED, RETURNED = "held", "claimed", "returned"


def hold_spec(transfer_id: str, source: int, escrow: int, amount: int, *, linked: bool, memo: str | None) -> TransferSpec:
    """The hold of one escrow leg: sender's wallet to escrow, pending until claimed or returned."""
    flags = TransferFlag.PENDING | (TransferFlag.LINKED if linked else TransferFlag.NONE)
    return TransferSpec(id=transfer_id, debit_account_id=source, credit_account_id=escrow, amount=amount, flags=flags,
                        memo=memo)


def fate(ledger: Ledger, transfer_id: str) -> str | None:
    """What the ledger says became of the hold: held, claimed or returned (None: no such hold)."""
    hold = ledger.lookup_transfer(transfer_id)
    if hold is None or not hold.flags & TransferFlag.PENDING:
        return None
    if hold.status == TransferStatus.PENDING:
        return HELD
    return CLAIMED if hold.status == TransferStatus.POSTED else RETURNED


def _decided(code: ResultCode) -> str | None:
    if code == ResultCode.pending_transfer_already_posted:
        return CLAIMED
    if code in (ResultCode.pending_transfer_already_voided, ResultCode.pending_transfer_expired):
        return RETURNED
    return None


def claim(ledger: Ledger, transfer_id: str, escrow: int, wallet: int, amount: int) -> str | None:
    """Post the hold and pay it on to the payee's wallet in one linked batch; the fate the ledger settled."""
    post, pay = ledger.create_transfers([
        TransferSpec(id=f"{transfer_id}:post", debit_account_id=0, credit_account_id=0, amount=0, pending_id=transfer_id,
                     flags=TransferFlag.POST_PENDING_TRANSFER | TransferFlag.LINKED, memo="escrow claim"),
        TransferSpec(id=f"{transfer_id}:pay", debit_account_id=escrow, credit_account_id=wallet, amount=amount,
                     memo="escrow claim"),
    ])
    if post.ok and pay.ok:
        return CLAIMED
    return _decided(post.result) or fate(ledger, transfer_id)


def give_back(ledger: Ledger, transfer_id: str) -> str | None:
    """Void the hold (back to the sender); the fate the ledger settled."""
    res = ledger.create_transfer(TransferSpec(id=f"{transfer_id}:void", debit_account_id=0, credit_account_id=0, amount=0,
                                              pending_id=transfer_id, flags=TransferFlag.VOID_PENDING_TRANSFER,
                                              memo="escrow return"))
    if res.ok:
        return RETURNED
    return _decided(res.result) or fate(ledger, transfer_id)


def settle(s: Session, escrow_id: int, outcome: str, now: datetime) -> bool:
    """Write the ledger's fate on the row; True for the one caller that moved it from held."""
    moved = s.execute(sa.update(Escrow).where(col(Escrow.id) == escrow_id, col(Escrow.status) == HELD)
                      .values(status=outcome, done_at=now)).rowcount  # type: ignore[attr-defined]
    return bool(moved == 1)


def _in_flight(s: Session) -> list[str]:
    """Transfer id prefixes whose escrow rows are not written yet: actions still executing (a crash, a
    resume to come) and standing orders whose due occurrence is running."""
    out = [attempt_id(a.id, a.attempt) + ":" for a in s.exec(select(Action).where(Action.status == "executing")).all()]
    for sch in s.exec(select(Schedule).where(Schedule.active == True, col(Schedule.next_run).is_not(None))).all():  # noqa: E712
        assert sch.next_run is not None
        out.append(f"{sch.action_id}@{sch.next_run.date().isoformat()}:")
    return out


def reconcile(db: sa.Engine, ledger: Ledger) -> list[str]:
    """Every escrow row against its hold, and every escrow account against the rows it holds for."""
    problems: list[str] = []
    if not sa.inspect(db).has_table("bot_escrow"):
        return problems
    with Session(db) as s:
        rows = list(s.exec(select(Escrow).order_by(col(Escrow.id))).all())
        in_flight = _in_flight(s)
    held: dict[str, int] = defaultdict(int)
    named: set[str] = set()
    for r in rows:
        named.add(r.transfer_id)
        hold = ledger.lookup_transfer(r.transfer_id)
        where = f"bot_escrow id={r.id} ({r.status}, {r.amount} {r.currency} for @{r.handle})"
        if hold is None or not hold.flags & TransferFlag.PENDING:
            problems.append(f"{where}: no hold {r.transfer_id!r} in the ledger")
            continue
        escrow = ledger.find_account("system", r.currency, "escrow")
        if escrow is None or hold.credit_account_id != escrow.id or hold.amount != r.amount:
            problems.append(f"{where}: hold {r.transfer_id!r} is not {r.amount} {r.currency} into escrow")
        said = fate(ledger, r.transfer_id)
        if said != r.status:
            problems.append(f"{where}: the ledger says the hold is {said}")
        if r.status == HELD:
            held[r.currency] += r.amount
    for acc in ledger.accounts("system"):
        if acc.kind != "escrow":
            continue
        for hold in ledger.open_holds(acc.id):
            if hold.id in named:
                continue
            if any(hold.id.startswith(prefix) for prefix in in_flight):
                held[acc.asset] += hold.amount  # its row comes when the execution is recorded
            else:
                problems.append(f"ledger_transfers id={hold.id!r}: a hold in escrow that no escrow row names")
        bal = ledger.balance(acc.id)
        if bal.credits_pending != held.get(acc.asset, 0):
            problems.append(f"ledger_accounts id={acc.id} (escrow {acc.asset}): {bal.credits_pending} on hold, "
                            f"the held escrow rows say {held.get(acc.asset, 0)}")
        if bal.posted != 0:
            problems.append(f"ledger_accounts id={acc.id} (escrow {acc.asset}): posted balance {bal.posted}, "
                            "where every claimed hold was paid on (0)")
    return problems


def reconcile_report(db: sa.Engine, ledger: Ledger) -> tuple[list[str], str]:
    """The reconciliation's problems and what to add to `ledger check`'s last line ("" on a ledger-only database)."""
    if not sa.inspect(db).has_table("bot_escrow"):
        return [], ""
    problems = reconcile(db, ledger)
    if problems:
        return problems, f"; escrow: {len(problems)} problems"
    return [], "; every escrow account matches its held rows"
