"""The engine's guarantees: confirmation and step-up before money moves, exactly once, only by the initiator."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pyotp
from sqlmodel import Session, select

from adapters.local.world import LocalWorld
from bot.directory import owner_of
from bot.events import Chat, ChatKind, Event, Person, Press
from bot.models import Action, Challenge, User


def onboard(w: LocalWorld, name: str, pin: str = "4826", topup: str | None = None) -> None:
    w.render(w.say(name, "dm", "/start"))
    w.render(w.say(name, "dm", "/pin"))
    w.render(w.say(name, "dm", pin))
    w.render(w.say(name, "dm", pin))
    if topup:
        w.render(w.say(name, "dm", f"top up {topup}"))
        w.render(w.press(name, "dm", "Confirm") or [])
        w.render(w.say(name, "dm", pin))


def balance(w: LocalWorld, name: str, currency: str = "USD") -> int:
    with Session(w.db) as s:
        user = s.exec(select(User).where(User.handle == name)).one()
    acc = w.engine.ledger.find_account(owner_of(user.id or 0), currency)
    return w.engine.ledger.balance(acc.id).posted if acc else 0


def texts(items: list[dict[str, Any]]) -> str:
    return "\n".join(str(i.get("text", "")) for i in items)


def test_send_needs_confirm_and_pin(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$100")
    onboard(world, "bob")
    assert balance(world, "alice") == 10000
    shown = world.render(world.say("alice", "dm", "send $20 to @bob"))
    assert shown[-1]["buttons"] == [["Confirm", "Cancel"]]
    assert balance(world, "alice") == 10000  # a card moves nothing
    world.render(world.press("alice", "dm", "Confirm") or [])
    assert balance(world, "alice") == 10000  # a press alone moves nothing
    done = world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "alice") == 8000 and balance(world, "bob") == 2000
    assert any(i["chat"] == "dm:bob" for i in done), "bob is told"


def test_redelivered_event_executes_once(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    world.render(world.say("alice", "dm", "withdraw 10"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    ev = Event("redelivered-1", Chat("local", "dm:alice", ChatKind.private), Person("local", "alice", handle="alice"),
               world.now(), text="4826", message_id="x1")
    first = world.engine.handle(ev)
    again = world.engine.handle(ev)
    assert first and again == []
    assert balance(world, "alice") == 4000


def test_double_press_and_simultaneous_presses_execute_once(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "bob")
    world.render(world.say("alice", "dm", "send $5 to @bob"))
    seq, rows = world.newest_with_buttons("dm:alice") or ("", [])
    token = rows[0][0]["data"]
    results: list[list[Any]] = []

    def press(i: int) -> None:
        ev = Event(f"p-{i}", Chat("local", "dm:alice", ChatKind.private), Person("local", "alice", handle="alice"),
                   world.now(), press=Press(f"press-{i}", token, seq))
        results.append(world.engine.handle(ev))

    threads = [threading.Thread(target=press, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with Session(world.db) as s:
        send = s.exec(select(Action).where(Action.kind == "send")).one()
        challenges = s.exec(select(Challenge).where(Challenge.action_id == send.id)).all()
    assert len(challenges) == 1
    answers = [r for replies in results for r in replies]
    # issue 10: a second Confirm while the PIN is pending says the PIN is awaited, not "Already done."
    assert sum(1 for r in answers if "Already done" in r.text) == 0
    assert sum(1 for r in answers if "PIN is awaited" in r.text) == 3
    world.render(world.say("alice", "dm", "4826"))
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "alice") == 4500 and balance(world, "bob") == 500
    again = world.engine.handle(Event("p-after", Chat("local", "dm:alice", ChatKind.private), Person("local", "alice", handle="alice"),
                                      world.now(), press=Press("press-after", token, seq)))
    assert [r.text for r in again] == ["Already done."]


def test_press_by_another_member_is_refused(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "bob")
    world.render(world.members("g:trip", ["alice", "bob"]))
    world.render(world.say("alice", "g:trip", "send $10 to @bob"))
    seq, rows = world.newest_with_buttons("g:trip") or ("", [])
    cancel = rows[0][1]["data"]
    ev = Event("bob-press", Chat("local", "g:trip", ChatKind.group), Person("local", "bob", handle="bob"), world.now(),
               press=Press("pp", cancel, seq))
    replies = world.engine.handle(ev)
    assert replies and replies[0].alert and "alice" in replies[0].text
    confirm_payload = rows[0][0]["start"]
    shown = world.render(world.say("bob", "dm", f"/start {confirm_payload}"))
    assert "alice" in texts(shown)
    with Session(world.db) as s:
        a = s.exec(select(Action).where(Action.kind == "send")).one()
        assert a.status == "awaiting_confirm"
    # alice can still confirm, in private, with her PIN
    world.render(world.say("alice", "dm", f"/start {confirm_payload}"))
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "bob") == 1000


def test_amount_changed_after_card_is_void(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "bob")
    world.render(world.say("alice", "dm", "send $5 to @bob"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    with Session(world.db) as s:
        a = s.exec(select(Action).where(Action.kind == "send")).one()
        payload = json.loads(a.payload)
        payload["legs"][0]["amount"] = 4000
        a.payload = json.dumps(payload)
        s.add(a)
        s.commit()
    shown = world.render(world.say("alice", "dm", "4826"))
    assert "void" in texts(shown).lower()
    assert balance(world, "alice") == 5000 and balance(world, "bob") == 0


def test_expired_card_moves_nothing(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    world.render(world.say("alice", "dm", "withdraw 20"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.advance(timedelta(minutes=6)))
    shown = world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "alice") == 5000
    assert shown


def test_five_wrong_pins_lock_stepup(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    world.render(world.say("alice", "dm", "withdraw 20"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    for wrong in ("0000", "0001", "0002", "0003", "0004"):
        world.render(world.say("alice", "dm", wrong))
    world.render(world.say("alice", "dm", "withdraw 20"))
    locked = world.render(world.press("alice", "dm", "Confirm") or [])
    assert "locked" in texts(locked).lower()
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "alice") == 5000
    world.render(world.advance(timedelta(minutes=16)))
    world.render(world.say("alice", "dm", "withdraw 20"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "alice") == 3000


def test_insufficient_funds_refused(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$10")
    onboard(world, "bob")
    card = world.render(world.say("alice", "dm", "send $20 to @bob"))
    assert "not enough" in texts(card).lower()  # said on the card, before any step-up (issue 10)
    pressed = world.render(world.press("alice", "dm", "Confirm") or [])
    assert "not enough" in texts(pressed).lower() and "PIN" not in texts(pressed)
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "alice") == 1000 and balance(world, "bob") == 0


def test_money_follows_the_id_not_the_handle(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$30")
    onboard(world, "bob")
    # bob renames himself to robert; a newcomer takes the handle bob
    world.engine.handle(Event("rename", Chat("local", "dm:bob", ChatKind.private),
                              Person("local", "bob", handle="robert"), world.now(), text="show balance"))
    world.engine.handle(Event("newbob", Chat("local", "dm:mallory", ChatKind.private),
                              Person("local", "mallory", handle="bob"), world.now(), text="/start"))
    world.render(world.say("alice", "dm", "send $10 to @robert"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "robert") == 1000
    with Session(world.db) as s:
        mallory = s.exec(select(User).where(User.handle == "bob")).one()
    acc = world.engine.ledger.find_account(owner_of(mallory.id or 0), "USD")
    assert acc is None or world.engine.ledger.balance(acc.id).posted == 0


def test_totp_enrolment_and_used_code_refused(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$900")
    world.render(world.say("alice", "dm", "/totp"))
    shown = world.render(world.say("alice", "dm", "4826"))  # the current factor first (issue 9)
    assert shown[-1].get("secret_photo"), "a QR code image is sent"
    with Session(world.db) as s:
        secret = s.exec(select(User).where(User.handle == "alice")).one().totp_pending_secret
    assert secret and secret in shown[-1]["text"], "the secret is also given as text"
    totp = pyotp.TOTP(secret)
    code = totp.at(world.now())
    world.render(world.say("alice", "dm", code))
    world.render(world.say("alice", "dm", "withdraw 600"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    asked = world.render(world.say("alice", "dm", "4826"))
    assert "code" in texts(asked).lower()
    world.render(world.say("alice", "dm", code))  # the code used at enrolment: refused
    assert balance(world, "alice") == 90000
    world.set_now(world.now() + timedelta(seconds=31))
    world.render(world.say("alice", "dm", totp.at(world.now())))
    assert balance(world, "alice") == 30000


def test_pin_typed_in_group_is_deleted_and_not_accepted(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "bob")
    world.render(world.members("g:trip", ["alice", "bob"]))
    world.render(world.say("alice", "g:trip", "send $10 to @bob"))
    _, rows = world.newest_with_buttons("g:trip") or ("", [])
    world.render(world.say("alice", "dm", f"/start {rows[0][0]['start']}"))
    typed = Event("pin-in-group", Chat("local", "g:trip", ChatKind.group), Person("local", "alice", handle="alice"),
                  world.now(), text="4826", message_id="m77", addressed=False)
    replies = world.engine.handle(typed)
    assert any(r.kind.value == "delete" and r.target_message_id == "m77" for r in replies)
    assert balance(world, "bob") == 0  # a PIN in a group never confirms
    # issue 9: the exposed PIN confirms nothing until it is changed (with the current PIN as proof)
    refused = world.render(world.say("alice", "dm", "4826"))
    assert "change it with /pin" in texts(refused).lower() and balance(world, "bob") == 0
    for line in ("/pin", "4826", "5713", "5713"):
        world.render(world.say("alice", "dm", line))
    world.render(world.say("alice", "dm", f"/start {rows[0][0]['start']}"))
    world.render(world.say("alice", "dm", "5713"))
    assert balance(world, "bob") == 1000


def test_pin_on_the_inline_keypad(world: LocalWorld) -> None:
    onboard(world, "alice", pin="2580", topup="$40")
    world.render(world.say("alice", "dm", "withdraw 15"))
    shown = world.render(world.press("alice", "dm", "Confirm") or [])
    keypad = shown[-1]["buttons"]
    assert [b for row in keypad for b in row] == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]
    for key in ("2", "5", "9", "⌫", "8", "0"):
        answered = world.render(world.press("alice", "dm", key) or [], presser="alice")
        assert all(ch not in answered[-1]["text"] for ch in "0123456789"), "the keypad never echoes digits"
    assert balance(world, "alice") == 4000
    world.render(world.press("alice", "dm", "OK") or [])
    assert balance(world, "alice") == 2500


def test_keypad_press_by_anyone_else_does_nothing(world: LocalWorld) -> None:
    onboard(world, "alice", pin="2580", topup="$40")
    world.render(world.say("alice", "dm", "withdraw 15"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    _, rows = world.newest_with_buttons("dm:alice") or ("", [])
    data = rows[0][1]["data"]
    onboard(world, "mallory")
    ev = Event("kp-mallory", Chat("local", "dm:mallory", ChatKind.private), Person("local", "mallory", handle="mallory"),
               world.now(), press=Press("x", data, None))
    assert "no longer valid" in world.engine.handle(ev)[0].text
    assert balance(world, "alice") == 4000
