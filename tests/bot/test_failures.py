"""A failed execution never poisons what it was for, and no internal code ever reaches a person."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from adapters.local.world import LocalWorld
from bot.models import Action
from bot.reasons import known, reason
from ledger import ResultCode
from tests.bot.test_engine import balance, onboard, texts


def _spend_elsewhere(w: LocalWorld, name: str, minor: int) -> None:
    """Money leaves the wallet between the PIN prompt and the PIN (another device): execution then fails
    (funds are checked before step-up since issue 10, so a card short from the start never gets this far)."""
    from bot.directory import owner_of
    from bot.models import User
    from ledger import TransferSpec

    with Session(w.db) as s:
        uid = s.exec(select(User).where(User.handle == name)).one().id
    led = w.engine.ledger
    wallet = led.find_account(owner_of(uid or 0), "USD")
    assert wallet is not None
    assert led.create_transfer(TransferSpec(id=f"elsewhere:{name}:{minor}", debit_account_id=wallet.id,
                                            credit_account_id=led.system_account("payouts", "USD").id, amount=minor)).ok


def _topup(w: LocalWorld, name: str, amount: str, pin: str = "4826") -> None:
    w.render(w.say(name, "dm", f"top up {amount}"))
    w.render(w.press(name, "dm", "Confirm") or [])
    w.render(w.say(name, "dm", pin))


def test_a_request_whose_payment_failed_is_payable_after_a_top_up(world: LocalWorld) -> None:
    onboard(world, "alice")
    onboard(world, "bob", pin="5182", topup="$50")
    world.render(world.say("alice", "dm", "request $40 from @bob"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.press("bob", "dm", "Pay") or [], presser="bob")
    _spend_elsewhere(world, "bob", 4000)
    failed = world.render(world.say("bob", "dm", "5182"))
    assert "not enough" in texts(failed).lower()
    assert balance(world, "alice") == 0
    _topup(world, "bob", "$50", pin="5182")
    again = world.render(world.press("bob", "dm", "Pay") or [], presser="bob")
    again += world.render(world.say("bob", "dm", "5182"))
    assert "already failed" not in texts(again).lower() and "id already" not in texts(again).lower()
    assert balance(world, "alice") == 4000 and balance(world, "bob") == 2000
    # paid is paid: a third press moves nothing
    world.render(world.press("bob", "dm", "Pay") or [], presser="bob")
    world.render(world.say("bob", "dm", "5182"))
    assert balance(world, "alice") == 4000


def test_a_failed_card_can_be_confirmed_again_as_a_new_attempt(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$35")
    onboard(world, "bob")
    world.render(world.say("alice", "dm", "send $25 to @bob"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    _spend_elsewhere(world, "alice", 2500)
    failed = world.render(world.say("alice", "dm", "4826"))
    assert "not enough" in texts(failed).lower()
    assert "_" not in texts(failed)
    _topup(world, "alice", "$30")
    with Session(world.db) as s:
        send = s.exec(select(Action).where(Action.kind == "send")).one()
        assert send.status == "failed"
    # the failed card (not the top-up's) offers Confirm again
    seq, rows = world.newest_with_buttons("dm:alice", "Confirm") or ("", [])
    token = rows[0][0]["data"]
    from bot.events import Chat, ChatKind, Event, Person, Press

    ev = Event("retry-1", Chat("local", "dm:alice", ChatKind.private), Person("local", "alice", handle="alice"),
               world.now(), press=Press("pr-retry", token, seq))
    world.render(world.engine.handle(ev))
    assert balance(world, "bob") == 0, "a press alone moves nothing"
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "bob") == 2500 and balance(world, "alice") == 1500
    with Session(world.db) as s:
        send = s.exec(select(Action).where(Action.kind == "send")).one()
        assert send.status == "executed" and send.attempt == 1
    assert world.engine.ledger.lookup_transfer(f"{send.id}:try1:0") is not None
    # the retry token is single-use: a replay moves nothing more
    world.render(world.engine.handle(Event("retry-2", ev.chat, ev.sender, world.now(), press=Press("pr-retry2", token, seq))))
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "bob") == 2500


@pytest.mark.parametrize("lang", ["en", "nb", "fr"])
def test_every_ledger_result_code_has_a_sentence(lang: str) -> None:
    for code in ResultCode:
        assert known(code), f"{code} has no sentence of its own"
        text = reason(code, lang)
        assert text and code.value not in text and "_" not in text, (code, text)
        if lang != "en":
            assert text != reason(code, "en"), f"{code}: no {lang} translation of {reason(code, 'en')!r}"


def test_an_unknown_code_never_reaches_a_person() -> None:
    text = reason("some_new_internal_code", "en")
    assert "some" not in text and "_" not in text
