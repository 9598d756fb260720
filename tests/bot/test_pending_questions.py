"""A pending follow-up question never swallows a new command; only an answer that fits it fills it."""

from __future__ import annotations

from sqlmodel import Session, select

from adapters.local.world import LocalWorld
from bot.models import Action
from tests.bot.test_engine import balance, onboard, texts


def _cards(w: LocalWorld) -> list[str]:
    with Session(w.db) as s:
        return [a.payload for a in s.exec(select(Action).order_by(Action.created_at)).all()]


def test_new_send_replaces_an_amount_question(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "bob")
    onboard(world, "carol")
    asked = world.render(world.say("alice", "dm", "send $20 or $30 to @bob"))
    assert "how much" in texts(asked).lower()
    shown = world.render(world.say("alice", "dm", "send $7 to @carol"))
    assert "dropped" in texts(shown).lower()
    assert "@carol" in shown[-1]["text"] and "@bob" not in shown[-1]["text"]
    assert "7.00" in shown[-1]["text"]
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "carol") == 700 and balance(world, "bob") == 0
    # the question is gone: a bare amount now is no answer to anything
    later = world.render(world.say("alice", "dm", "20"))
    assert balance(world, "bob") == 0 and "@bob" not in texts(later)


def test_a_fitting_amount_still_fills_the_question(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "bob")
    world.render(world.say("alice", "dm", "send $20 or $30 to @bob"))
    shown = world.render(world.say("alice", "dm", "$30"))
    assert "@bob" in shown[-1]["text"] and "30.00" in shown[-1]["text"]


def test_new_send_replaces_a_payee_question(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "carol")
    asked = world.render(world.say("alice", "dm", "send $20"))
    assert "whom" in texts(asked).lower()
    shown = world.render(world.say("alice", "dm", "send $7 to @carol"))
    assert "dropped" in texts(shown).lower()
    assert "7.00" in shown[-1]["text"] and "20.00" not in shown[-1]["text"]
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "carol") == 700 and balance(world, "alice") == 4300


def test_a_fitting_payee_fills_the_question(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "carol")
    world.render(world.say("alice", "dm", "send $20"))
    shown = world.render(world.say("alice", "dm", "@carol"))
    assert "@carol" in shown[-1]["text"] and "20.00" in shown[-1]["text"]


def test_symbol_question_is_filled_by_a_ticker_and_replaced_by_a_command(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$500")
    onboard(world, "carol")
    world.render(world.say("alice", "dm", "buy 2 shares of zzzz"))
    shown = world.render(world.say("alice", "dm", "AAPL"))
    assert shown[-1]["buttons"] == [["Confirm", "Cancel"]], texts(shown)
    assert "AAPL" in shown[-1]["text"]
    world.render(world.press("alice", "dm", "Cancel") or [])
    world.render(world.say("alice", "dm", "buy 2 shares of zzzz"))
    replaced = world.render(world.say("alice", "dm", "send $7 to @carol"))
    assert "dropped" in texts(replaced).lower() and "@carol" in replaced[-1]["text"]


def test_quantity_question_is_filled_by_a_number_and_replaced_by_a_command(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$500")
    onboard(world, "carol")
    asked = world.render(world.say("alice", "dm", "buy AAPL"))
    assert "how many" in texts(asked).lower()
    shown = world.render(world.say("alice", "dm", "2"))
    assert shown[-1]["buttons"] == [["Confirm", "Cancel"]], texts(shown)
    assert "AAPL" in shown[-1]["text"]
    world.render(world.press("alice", "dm", "Cancel") or [])
    world.render(world.say("alice", "dm", "buy AAPL"))
    replaced = world.render(world.say("alice", "dm", "send $7 to @carol"))
    assert "dropped" in texts(replaced).lower() and "@carol" in replaced[-1]["text"]
    assert all('"AAPL"' not in p or '"buy"' in p for p in _cards(world))


def test_a_pronoun_payee_without_a_reply_asks_who(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    shown = world.render(world.say("alice", "dm", "send $20 to her"))
    assert "whom" in texts(shown).lower()
    assert not _cards(world)[1:], "no card for a payee nobody named"
