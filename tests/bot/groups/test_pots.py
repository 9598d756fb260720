"""Pots: one payment a member, held until the organiser closes (paid to them) or cancels (each refunded once);
a pot that ends while a payment is on its way refunds that payment; non-members and leavers cannot pay in."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session

from bot.groups import pots
from bot.groups.models import Pot
from tests.bot.groups.conftest import NOW, Group


def open_pot(g: Group, pot_id: str, amount: int = 1000, invited: list[int] | None = None) -> None:
    with Session(g.db) as s:
        s.add(Pot(id=pot_id, chat_row_id=g.chat_row_id, chat_id="g:trip", organiser_id=g.ids["alice"], amount=amount,
                  currency="USD", note="gift", invited=json.dumps(invited or []), everyone=not invited,
                  deadline=NOW + timedelta(days=7), remind_at=NOW + timedelta(hours=24), created_at=NOW))
        s.commit()


def pay(g: Group, pot_id: str, who: str, wallet: Callable[[int, str], int] | None = None, n: int = 0) -> str:
    return pots.pay(g.db, g.ledger, pot_id, g.ids[who], f"{pot_id}:{who}:{n}", wallet or g.wallet, NOW).code


def test_pay_close_and_progress(group: Group) -> None:
    g = group
    for n in ("bob", "carol", "dave"):
        g.fund(n, 5000)
    g.add("erin")
    g.leave("erin")
    open_pot(g, "pot1")
    assert pay(g, "pot1", "bob") == "ok"
    assert pay(g, "pot1", "bob", n=1) == "already_paid"
    assert pay(g, "pot1", "alice") == "own_pot"
    assert pay(g, "pot1", "erin") == "not_member"
    assert pay(g, "pot1", "carol") == "ok"
    assert g.balance("bob") == 4000 and g.balance("alice") == 0  # held, not yet the organiser's
    with Session(g.db) as s:
        pot = s.get(Pot, "pot1")
        assert pot is not None
        prog = pots.progress(s, pot)
        assert [u.handle for u in prog.paid] == ["bob", "carol"] and [u.handle for u in prog.unpaid] == ["dave"]
        assert prog.total == 2000
    assert pots.end(g.db, "pot1", pots.CLOSED, NOW)
    assert not pots.end(g.db, "pot1", pots.CANCELLED, NOW)  # closed is final
    assert pots.settle_rest(g.db, g.ledger, "pot1", g.wallet, NOW) == (2, 2000)
    assert pots.settle_rest(g.db, g.ledger, "pot1", g.wallet, NOW) == (0, 0)
    assert g.balance("alice") == 2000
    assert pay(g, "pot1", "dave") == "pot_closed"
    assert g.balance("dave") == 5000


def test_cancel_refunds_every_payment_once(group: Group) -> None:
    g = group
    for n in ("bob", "carol"):
        g.fund(n, 1500)
    open_pot(g, "pot2")
    assert pay(g, "pot2", "bob") == "ok" and pay(g, "pot2", "carol") == "ok"
    assert pots.end(g.db, "pot2", pots.CANCELLED, NOW)
    assert pots.settle_rest(g.db, g.ledger, "pot2", g.wallet, NOW) == (2, 2000)
    assert pots.settle_rest(g.db, g.ledger, "pot2", g.wallet, NOW) == (0, 0)
    assert g.balance("bob") == 1500 and g.balance("carol") == 1500 and g.balance("alice") == 0


def test_a_pot_cancelled_while_a_payment_is_on_its_way_refunds_it(group: Group) -> None:
    g = group
    g.fund("bob", 1000)
    open_pot(g, "pot3")

    def cancel_meanwhile(user_id: int, currency: str) -> int:
        # the payment's row is written, its hold not yet made: the organiser cancels right now
        assert pots.end(g.db, "pot3", pots.CANCELLED, NOW)
        assert pots.settle_rest(g.db, g.ledger, "pot3", g.wallet, NOW) == (0, 0)
        return g.wallet(user_id, currency)

    assert pay(g, "pot3", "bob", cancel_meanwhile) == "pot_gone"
    assert g.balance("bob") == 1000 and g.balance("alice") == 0
    assert pots.settle_rest(g.db, g.ledger, "pot3", g.wallet, NOW) == (0, 0)


def test_a_failed_payment_can_be_made_again_and_invited_only(group: Group) -> None:
    g = group
    open_pot(g, "pot4", invited=[group.ids["bob"]])
    assert pay(g, "pot4", "carol") == "not_invited"
    assert pay(g, "pot4", "bob") == "exceeds_credits"  # an empty wallet: nothing held
    g.fund("bob", 1000)
    assert pay(g, "pot4", "bob", n=1) == "ok"
    assert g.balance("bob") == 0
    late, remind = pots.due(g.db, NOW + timedelta(hours=25))
    assert late == [] and remind == ["pot4"]
    assert pots.mark_reminded(g.db, "pot4") and not pots.mark_reminded(g.db, "pot4")
    late, remind = pots.due(g.db, NOW + timedelta(days=8))
    assert late == ["pot4"] and remind == []
    assert pots.end(g.db, "pot4", pots.CLOSED, NOW)
    assert pots.settle_rest(g.db, g.ledger, "pot4", g.wallet, NOW) == (1, 1000)
    assert g.balance("alice") == 1000
