"""Collections (pots): members pay a fixed part into a hold; the organiser closes the pot (every hold paid on to
them) or cancels it (every hold voided: each payment refunded, once). A payment writes its row before its hold
and checks the pot again after, under the pot's row lock, so a pot closed or cancelled while someone was at
their PIN step refunds that payment instead of keeping it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.groups import holds, membership
from bot.groups.models import Pot, PotPayment
from bot.groups.packets import Wallet
from bot.models import User
from ledger import Ledger, ResultCode

OPEN, CLOSED, CANCELLED = "open", "closed", "cancelled"


def invited(pot: Pot) -> list[int]:
    """The user ids asked to pay (empty: everyone in the group now)."""
    return [int(x) for x in json.loads(pot.invited or "[]")]


def expected(s: Session, pot: Pot) -> list[User]:
    """Who is asked to pay now: the invited, or everyone in the group but the organiser; members who left drop out."""
    members = membership.current(s, pot.chat_row_id)
    if pot.everyone:
        return [u for u in members if u.id != pot.organiser_id]
    ids = set(invited(pot))
    return [u for u in members if u.id in ids and u.id != pot.organiser_id]


def refusal(s: Session, pot: Pot | None, user_id: int) -> str | None:
    """Why `user_id` may not pay into the pot now (None: they may)."""
    if pot is None:
        return "no_pot"
    if pot.status != OPEN:
        return "pot_" + pot.status
    if user_id == pot.organiser_id:
        return "own_pot"
    if not membership.is_member(s, pot.chat_row_id, user_id):
        return "not_member"
    if not pot.everyone and user_id not in invited(pot):
        return "not_invited"
    paid = s.exec(select(PotPayment).where(PotPayment.pot_id == pot.id, PotPayment.payer_id == user_id,
                                           col(PotPayment.status).in_(("paying", "held", "paid")))).first()
    if paid is not None:
        return "already_paid"
    return None


def _lock_open(s: Session, pot_id: str) -> bool:
    """Take the pot's row lock while it is open (PostgreSQL row lock; SQLite's write lock); False when it is not."""
    moved = s.execute(sa.update(Pot).where(col(Pot.id) == pot_id, col(Pot.status) == OPEN)
                      .values(status=OPEN)).rowcount  # type: ignore[attr-defined]
    return bool(moved == 1)


@dataclass(frozen=True)
class Paid:
    """What a payment into a pot came to: `code` ok or why not; the ledger's code when the hold failed."""

    code: str

    @property
    def ok(self) -> bool:
        return self.code == "ok"


def pay(db: sa.Engine, ledger: Ledger, pot_id: str, user_id: int, transfer_id: str, wallet: Wallet, now: datetime) -> Paid:
    """Pay the user's part into the pot: row, then hold, then the pot checked again (closed meanwhile: refunded)."""
    with Session(db, expire_on_commit=False) as s:
        pot = s.get(Pot, pot_id)
        why = refusal(s, pot, user_id)
        if why is not None:
            return Paid(why)
        assert pot is not None
        if not _lock_open(s, pot_id):
            return Paid("pot_" + CLOSED)
        # a failed attempt before leaves its row "failed": this attempt (its own transfer id) takes its place
        s.execute(sa.delete(PotPayment).where(col(PotPayment.pot_id) == pot_id, col(PotPayment.payer_id) == user_id,
                                              col(PotPayment.status) == "failed"))
        try:
            s.add(PotPayment(pot_id=pot_id, payer_id=user_id, amount=pot.amount, currency=pot.currency,
                             transfer_id=transfer_id, created_at=now))
            s.commit()
        except IntegrityError:
            s.rollback()
            return Paid("already_paid")
        amount, currency = pot.amount, pot.currency
    res = ledger.create_transfer(holds.hold(transfer_id, wallet(user_id, currency), holds.account(ledger, currency),
                                            amount, memo="pot"))
    if not res.ok:
        with Session(db) as s:
            s.execute(sa.update(PotPayment).where(col(PotPayment.transfer_id) == transfer_id).values(status="failed", done_at=now))
            s.commit()
        code = res.result.value if isinstance(res.result, ResultCode) else str(res.result)
        return Paid(str(code))
    with Session(db) as s:
        still_open = _lock_open(s, pot_id)
        if still_open:
            s.execute(sa.update(PotPayment).where(col(PotPayment.transfer_id) == transfer_id,
                                                  col(PotPayment.status) == "paying").values(status="held"))
            s.commit()
            return Paid("ok")
        s.rollback()
    # closed or cancelled while this payment was on its way: it is given back (settle_rest does the same)
    fate = holds.give_back(ledger, transfer_id, "pot no longer open")
    status = {holds.POSTED: "paid", holds.VOIDED: "refunded"}.get(fate or "")
    if status is not None:
        with Session(db) as s:
            s.execute(sa.update(PotPayment).where(col(PotPayment.transfer_id) == transfer_id,
                                                  col(PotPayment.status) == "paying").values(status=status, done_at=now))
            s.commit()
    return Paid("ok" if status == "paid" else "pot_gone")


def end(db: sa.Engine, pot_id: str, how: str, now: datetime) -> bool:
    """Mark an open pot closed or cancelled (the one caller that did gets True); its holds are settled after."""
    with Session(db) as s:
        moved = s.execute(sa.update(Pot).where(col(Pot.id) == pot_id, col(Pot.status) == OPEN)
                          .values(status=how, done_at=now)).rowcount  # type: ignore[attr-defined]
        s.commit()
    return bool(moved == 1)


def settle_rest(db: sa.Engine, ledger: Ledger, pot_id: str, wallet: Wallet, now: datetime) -> tuple[int, int]:
    """Settle every hold of a pot that is no longer open: closed, each held payment paid on to the organiser;
    cancelled, each voided back to its payer. A payment still on its way when the pot ended (row written, hold
    made, not yet marked held) is given back either way, as that payment does itself. (holds settled, minor units)."""
    with Session(db, expire_on_commit=False) as s:
        pot = s.get(Pot, pot_id)
        if pot is None or pot.status == OPEN:
            return 0, 0
        rows = list(s.exec(select(PotPayment).where(PotPayment.pot_id == pot_id, PotPayment.status == "held")).all())
        paying = list(s.exec(select(PotPayment).where(PotPayment.pot_id == pot_id, PotPayment.status == "paying")).all())
    late = [r for r in paying if holds.fate(ledger, r.transfer_id) == holds.HELD]
    n = total = 0
    for r in rows + late:
        if pot.status == CLOSED and r.status == "held":
            fate = holds.pay_out(ledger, r.transfer_id, holds.account(ledger, r.currency), wallet(pot.organiser_id, r.currency),
                                 r.amount, "pot closed")
        else:
            fate = holds.give_back(ledger, r.transfer_id, "pot cancelled")
        status = {holds.POSTED: "paid", holds.VOIDED: "refunded"}.get(fate or "")
        if status is None:
            continue
        with Session(db) as s:
            moved = s.execute(sa.update(PotPayment).where(col(PotPayment.id) == r.id, col(PotPayment.status).in_(("held", "paying")))
                              .values(status=status, done_at=now)).rowcount  # type: ignore[attr-defined]
            s.commit()
        if moved == 1:
            n += 1
            total += r.amount
    return n, total


@dataclass(frozen=True)
class Progress:
    """Who has paid, who has not, and the total held."""

    paid: list[User]
    unpaid: list[User]
    total: int


def progress(s: Session, pot: Pot) -> Progress:
    """The pot's progress line: paid members (held or paid out), those still asked, the total."""
    rows = list(s.exec(select(PotPayment).where(PotPayment.pot_id == pot.id,
                                                col(PotPayment.status).in_(("held", "paid", "refunded")))).all())
    paid_ids = [r.payer_id for r in rows]
    paid = [u for u in (s.get(User, i) for i in paid_ids) if u is not None]
    unpaid = [u for u in expected(s, pot) if u.id not in paid_ids]
    total = sum(r.amount for r in rows if r.status in ("held", "paid"))
    return Progress(paid, unpaid, total)


def due(db: sa.Engine, now: datetime) -> tuple[list[str], list[str]]:
    """(open pots past their deadline, open pots whose reminder is due and not yet sent), by id."""
    with Session(db) as s:
        late = [p.id for p in s.exec(select(Pot).where(Pot.status == OPEN, col(Pot.deadline) <= now)).all()]
        remind = [p.id for p in s.exec(select(Pot).where(Pot.status == OPEN, col(Pot.reminded) == False,  # noqa: E712
                                                         col(Pot.remind_at).is_not(None), col(Pot.remind_at) <= now)).all()
                  if p.id not in late]
    return late, remind


def mark_reminded(db: sa.Engine, pot_id: str) -> bool:
    """Note the reminder sent (the one caller that did gets True)."""
    with Session(db) as s:
        moved = s.execute(sa.update(Pot).where(col(Pot.id) == pot_id, col(Pot.reminded) == False)  # noqa: E712
                          .values(reminded=True)).rowcount  # type: ignore[attr-defined]
        s.commit()
    return bool(moved == 1)
