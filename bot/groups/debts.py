"""Who owes whom in a group: expenses record debts without moving money; settle-up payments clear them.

Debts are rows (`GroupDebt`): an expense share is "the sharer owes the payer"; a settle-up payment of X to Y is
written as "Y owes X what was paid", so a person's net balance is a plain sum and a partial payment leaves the
rest. Settle-up is the fewest payments that clear the nets (bot/charts/debts.py: exact for small groups, greedy
largest debtor to largest creditor otherwise, never more than n - 1 a currency). Currencies stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.charts.debts import Debt, net_balances, simplify
from bot.groups.models import GroupDebt


@dataclass(frozen=True)
class Payment:
    """One settle-up payment: `payer_id` pays `payee_id` `amount` minor units of `currency`."""

    payer_id: int
    payee_id: int
    amount: int
    currency: str


def record_expense(s: Session, chat_row_id: int, payer_id: int, shares: dict[int, int], currency: str,
                   source: str, note: str | None, now: datetime) -> int:
    """Each sharer owes the payer their share (the payer's own share is no debt); rows written, 0 on a redelivery."""
    written = 0
    for debtor, amount in sorted(shares.items()):
        if debtor == payer_id or amount <= 0:
            continue
        if s.exec(select(GroupDebt).where(GroupDebt.source == source, GroupDebt.debtor_id == debtor,
                                          GroupDebt.creditor_id == payer_id)).first() is not None:
            continue
        s.add(GroupDebt(chat_row_id=chat_row_id, debtor_id=debtor, creditor_id=payer_id, amount=amount,
                        currency=currency, source=source, note=note, created_at=now))
        written += 1
    s.flush()
    return written


def record_payment(s: Session, chat_row_id: int, payer_id: int, payee_id: int, amount: int, currency: str,
                   source: str, now: datetime) -> bool:
    """A settle-up payment made (the money moved): it offsets what the payer owed; False when already written."""
    if amount <= 0 or payer_id == payee_id:
        return False
    if s.exec(select(GroupDebt).where(GroupDebt.source == source)).first() is not None:
        return False
    try:
        with s.begin_nested():
            s.add(GroupDebt(chat_row_id=chat_row_id, debtor_id=payee_id, creditor_id=payer_id, amount=amount,
                            currency=currency, source=source, note="settle up", created_at=now))
    except IntegrityError:
        return False
    return True


def rows(s: Session, chat_row_id: int) -> list[GroupDebt]:
    """Every debt row of a group, oldest first."""
    return list(s.exec(select(GroupDebt).where(GroupDebt.chat_row_id == chat_row_id).order_by(col(GroupDebt.id))).all())


def as_debts(s: Session, chat_row_id: int) -> list[Debt]:
    """The group's debts keyed by user id (as text), for netting and simplifying."""
    return [Debt(str(r.debtor_id), str(r.creditor_id), r.amount, r.currency) for r in rows(s, chat_row_id)]


def balances(s: Session, chat_row_id: int) -> dict[str, dict[int, int]]:
    """Per currency, each member's net: + is owed to them, - they owe. Zero balances left out."""
    return {cur: {int(k): v for k, v in nets.items()} for cur, nets in net_balances(as_debts(s, chat_row_id)).items()}


def pairwise(s: Session, chat_row_id: int) -> list[Debt]:
    """What each pair still owes after offsetting each other (debtor -> creditor, per currency): the picture's input."""
    acc: dict[tuple[str, str, str], int] = {}
    for d in as_debts(s, chat_row_id):
        a, b = sorted((d.debtor, d.creditor))
        sign = 1 if d.debtor == a else -1
        acc[(a, b, d.currency)] = acc.get((a, b, d.currency), 0) + sign * d.amount
    out: list[Debt] = []
    for (a, b, cur), v in sorted(acc.items()):
        if v > 0:
            out.append(Debt(a, b, v, cur))
        elif v < 0:
            out.append(Debt(b, a, -v, cur))
    return out


def settle_plan(s: Session, chat_row_id: int, *, only: int | None = None, between: tuple[int, int] | None = None) -> list[Payment]:
    """The fewest payments that clear the group's debts; `only`: those that person makes or receives; `between`:
    what settles that pair alone (their own debts with each other, netted)."""
    if between is not None:
        a, b = between
        mine = [d for d in pairwise(s, chat_row_id) if {d.debtor, d.creditor} == {str(a), str(b)}]
        return [Payment(int(d.debtor), int(d.creditor), d.amount, d.currency) for d in mine]
    plan = [Payment(int(d.debtor), int(d.creditor), d.amount, d.currency) for d in simplify(as_debts(s, chat_row_id))]
    if only is not None:
        plan = [p for p in plan if only in (p.payer_id, p.payee_id)]
    return plan
