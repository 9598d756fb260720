"""The per-payment tier limit holds on every road that moves money: sends, top-ups, withdrawals,
paying a request, and orders."""

from __future__ import annotations

from sqlmodel import Session, select

from adapters.local.world import LocalWorld
from bot.limits import MOVING, amount_of
from bot.models import Action
from tests.bot.test_engine import balance, onboard, texts


def _topup(w: LocalWorld, name: str, amount: str) -> None:
    w.render(w.say(name, "dm", f"top up {amount}"))
    w.render(w.press(name, "dm", "Confirm") or [])
    w.render(w.say(name, "dm", "4826"))


def test_tier0_cannot_pay_a_request_above_the_limit(world: LocalWorld) -> None:
    onboard(world, "alice")
    onboard(world, "bob")
    _topup(world, "bob", "$800")
    _topup(world, "bob", "$800")
    assert balance(world, "bob") == 160000
    world.render(world.say("alice", "dm", "request $1500 from @bob"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    shown = world.render(world.press("bob", "dm", "Pay") or [], presser="bob")
    shown += world.render(world.say("bob", "dm", "4826"))
    assert "limit" in texts(shown).lower()
    assert balance(world, "bob") == 160000 and balance(world, "alice") == 0
    with Session(world.db) as s:
        assert not s.exec(select(Action).where(Action.kind == "pay_request")).all()


def test_tier0_cannot_place_an_order_above_the_limit(world: LocalWorld) -> None:
    onboard(world, "alice")
    _topup(world, "alice", "$900")
    _topup(world, "alice", "$700")  # $1,600 today: the $500 order below stays inside the daily limit too
    shown = world.render(world.say("alice", "dm", "buy $1527.50 of AAPL"))
    assert "limit" in texts(shown).lower(), texts(shown)
    assert not any(i.get("buttons") == [["Confirm", "Cancel"]] for i in shown)
    with Session(world.db) as s:
        assert not s.exec(select(Action).where(Action.kind == "buy")).all()
    ok = world.render(world.say("alice", "dm", "buy $500 of AAPL"))
    assert ok[-1]["buttons"] == [["Confirm", "Cancel"]]


def test_every_moving_kind_has_an_amount_the_limit_reads() -> None:
    samples = {
        "send": {"currency": "USD", "legs": [{"amount": 600}, {"amount": 600}]},
        "deposit": {"currency": "USD", "amount": 1200},
        "withdraw": {"currency": "USD", "amount": 1200},
        "pay_request": {"currency": "USD", "amount": 1200},
        "buy": {"currency": "USD", "estimate": 1100, "reserve": 1200},
        "sell": {"currency": "USD", "estimate": 1200},
        "convert": {"currency": "EUR", "fx": {"sell": "USD", "cost": 1194, "fee": 6}},
    }
    assert set(samples) == set(MOVING)
    for kind, payload in samples.items():
        assert amount_of(kind, payload) == 1200, kind
    assert amount_of("request", {"currency": "USD", "legs": [{"amount": 5}]}) is None
