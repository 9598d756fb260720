"""Expenses record who owes whom without moving money; settle-up is the fewest payments; paid debts leave."""

from __future__ import annotations

from sqlmodel import Session

from bot.groups import debts
from tests.bot.groups.conftest import NOW, Group


def test_expenses_net_and_settle_in_fewest_payments(group: Group) -> None:
    a, b, c, d = (group.ids[n] for n in ("alice", "bob", "carol", "dave"))
    with Session(group.db) as s:
        # alice paid 90 for three; bob paid 30 for bob and carol; dave paid 10 NOK for alice
        debts.record_expense(s, group.chat_row_id, a, {a: 3000, b: 3000, c: 3000}, "USD", "expense:1", "dinner", NOW)
        debts.record_expense(s, group.chat_row_id, b, {b: 1500, c: 1500}, "USD", "expense:2", None, NOW)
        debts.record_expense(s, group.chat_row_id, d, {a: 1000}, "NOK", "expense:3", None, NOW)
        assert debts.record_expense(s, group.chat_row_id, a, {a: 3000, b: 3000, c: 3000}, "USD", "expense:1", "dinner", NOW) == 0
        s.commit()
        bal = debts.balances(s, group.chat_row_id)
        assert bal == {"NOK": {a: -1000, d: 1000}, "USD": {a: 6000, b: -1500, c: -4500}}
        plan = debts.settle_plan(s, group.chat_row_id)
        usd = [p for p in plan if p.currency == "USD"]
        assert len(usd) <= 3 - 1 and sum(p.amount for p in usd) == 6000
        assert {(p.payer_id, p.payee_id, p.amount) for p in usd} == {(c, a, 4500), (b, a, 1500)}
        assert [(p.payer_id, p.payee_id, p.amount, p.currency) for p in plan if p.currency == "NOK"] == [(a, d, 1000, "NOK")]
        assert all(p.currency in ("USD", "NOK") for p in plan)  # currencies stay apart
        # carol pays part of hers: the rest stays; bob pays all of his: he leaves the graph
        assert debts.record_payment(s, group.chat_row_id, c, a, 2000, "USD", "settle:x", NOW)
        assert not debts.record_payment(s, group.chat_row_id, c, a, 2000, "USD", "settle:x", NOW)  # once
        assert debts.record_payment(s, group.chat_row_id, b, a, 1500, "USD", "settle:y", NOW)
        s.commit()
        bal = debts.balances(s, group.chat_row_id)
        assert bal["USD"] == {a: 2500, c: -2500}
        assert [(p.payer_id, p.payee_id, p.amount) for p in debts.settle_plan(s, group.chat_row_id, only=c)] == [(c, a, 2500)]
        assert debts.settle_plan(s, group.chat_row_id, only=b) == []
        between = debts.settle_plan(s, group.chat_row_id, between=(a, d))
        assert [(p.payer_id, p.payee_id, p.amount, p.currency) for p in between] == [(a, d, 1000, "NOK")]


def test_a_chain_simplifies_to_one_payment(group: Group) -> None:
    a, b, c = (group.ids[n] for n in ("alice", "bob", "carol"))
    with Session(group.db) as s:
        debts.record_expense(s, group.chat_row_id, b, {a: 1000}, "EUR", "e1", None, NOW)  # alice owes bob 10
        debts.record_expense(s, group.chat_row_id, c, {b: 1000}, "EUR", "e2", None, NOW)  # bob owes carol 10
        s.commit()
        assert [(p.payer_id, p.payee_id, p.amount) for p in debts.settle_plan(s, group.chat_row_id)] == [(a, c, 1000)]
        pw = debts.pairwise(s, group.chat_row_id)
        assert len(pw) == 2
