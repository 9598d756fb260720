"""Step-up itself (issues 9, 10, 11): changing a PIN or a factor takes the current ones, the lockout is
atomic across processes, a PIN never becomes an answer or stays visible, weak PINs are refused, an
exposed PIN confirms nothing, each card's step-up is its own, and PINs are keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlmodel import Session, select

from adapters.local.world import LocalWorld
from bot.events import Chat, ChatKind, Event, Person
from bot.models import Action, User
from tests.bot.test_engine import balance, onboard, texts

ROOT = Path(__file__).resolve().parents[2]
PIN = "4826"


def user_row(w: LocalWorld, handle: str) -> User:
    with Session(w.db) as s:
        return s.exec(select(User).where(User.handle == handle)).one()


def set_column(w: LocalWorld, handle: str, **values: Any) -> None:
    with Session(w.db) as s:
        u = s.exec(select(User).where(User.handle == handle)).one()
        for k, v in values.items():
            setattr(u, k, v)
        s.commit()


def say(w: LocalWorld, user: str, *lines: str, chat: str = "dm") -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = []
    for line in lines:
        shown += w.render(w.say(user, chat, line))
    return shown


def enrol_totp(w: LocalWorld, user: str, pin: str = PIN) -> pyotp.TOTP:
    say(w, user, "/totp", pin)
    secret = user_row(w, user).totp_pending_secret
    assert secret
    totp = pyotp.TOTP(secret)
    say(w, user, totp.at(w.now()))
    assert user_row(w, user).totp_secret == secret
    w.set_now(w.now() + timedelta(seconds=31))
    return totp


# ------------------------------------------------------------------ 1. changing a PIN

def test_changing_a_pin_takes_the_current_one(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    shown = say(world, "alice", "/pin", "5713", "5713")  # someone with the unlocked phone, not knowing the PIN
    assert "tries left" in texts(shown)
    assert world.engine.stepup.verify(user_row(world, "alice").pin_hash, PIN), "the PIN was not changed"
    assert not world.engine.stepup.verify(user_row(world, "alice").pin_hash, "5713")
    # with the current PIN it changes
    say(world, "alice", "/pin", PIN, "5713", "5713")
    assert world.engine.stepup.verify(user_row(world, "alice").pin_hash, "5713")


def test_wrong_answers_to_a_change_count_toward_the_lockout_and_a_lock_refuses_it(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    say(world, "alice", "/pin")
    for wrong in ("5000", "5001", "5002", "5003", "5004"):
        shown = say(world, "alice", wrong)
    assert "locked" in texts(shown).lower()
    assert user_row(world, "alice").stepup_locked_until is not None
    shown = say(world, "alice", "/pin", PIN, "5713", "5713")  # even the right PIN: locked
    assert "locked" in texts(shown).lower()
    assert world.engine.stepup.verify(user_row(world, "alice").pin_hash, PIN)
    # and a confirmation is locked too, the same lockout
    say(world, "alice", "withdraw 10")
    shown = world.render(world.press("alice", "dm", "Confirm") or [])
    assert "locked" in texts(shown).lower() and balance(world, "alice") == 5000


def test_a_forgotten_pin_is_reset_by_a_one_time_code(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    totp = enrol_totp(world, "alice")
    say(world, "alice", "/pin", totp.at(world.now()), "5713", "5713")
    assert world.engine.stepup.verify(user_row(world, "alice").pin_hash, "5713")


def test_a_forgotten_pin_without_totp_is_reset_only_by_two_operators_each_with_their_own_pin(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "olga", pin="7395")
    onboard(world, "oscar", pin="6394")
    world.engine.set_operator("local", "olga", "olga")
    shown = say(world, "alice", "/admin pin-reset @alice")
    assert "only operators" in texts(shown).lower()
    shown = say(world, "olga", "/admin pin-reset @olga")
    assert "themselves" in texts(shown).lower() and user_row(world, "olga").pin_hash
    shown = say(world, "olga", "/admin pin-reset @alice")
    assert "second operator is needed" in texts(shown)  # olga is the only operator
    world.engine.set_operator("local", "oscar", "oscar")
    say(world, "olga", "/admin pin-reset @alice")
    world.render(world.press("olga", "dm", "Confirm") or [])
    say(world, "olga", "1357")  # a wrong operator PIN: nothing asked, nothing reset
    assert user_row(world, "alice").pin_hash and user_row(world, "olga").pin_failures == 1
    say(world, "olga", "7395")
    assert user_row(world, "alice").pin_hash, "one operator alone resets nothing"
    world.render(world.press("oscar", "dm", "Approve") or [])
    shown = say(world, "oscar", "6394")
    assert user_row(world, "alice").pin_hash is None
    assert any(i["chat"] == "dm:alice" and "/pin" in i["text"] for i in shown), "alice is told"
    say(world, "alice", "/pin", "5713", "5713")
    assert world.engine.stepup.verify(user_row(world, "alice").pin_hash, "5713")


# ------------------------------------------------------------------ 2. replacing or removing a factor

def test_pin_and_totp_reenrolment_by_an_attacker_cannot_pass_a_900_send(world: LocalWorld) -> None:
    """The landed attack: /pin, then /totp with the attacker's authenticator, then a $900 send."""
    onboard(world, "alice", topup="$1000")
    onboard(world, "bob", pin="7395")
    enrol_totp(world, "alice")
    # the attacker holds alice's unlocked phone, not her PIN nor her authenticator
    say(world, "alice", "/pin", "6185", "6185", "6185")
    shown = say(world, "alice", "/totp", "6185")
    assert not any(i.get("secret_photo") or i.get("photo") for i in shown), "no new authenticator without the current factors"
    pending = user_row(world, "alice").totp_pending_secret
    if pending:  # whatever was shown cannot pass
        say(world, "alice", pyotp.TOTP(pending).at(world.now()))
    world.set_now(world.now() + timedelta(seconds=31))
    say(world, "alice", "send $900 to @bob")
    world.render(world.press("alice", "dm", "Confirm") or [])
    say(world, "alice", "6185")
    if pending:
        say(world, "alice", pyotp.TOTP(pending).at(world.now()))
    assert balance(world, "alice") == 100000 and balance(world, "bob") == 0


def test_replacing_or_removing_totp_takes_the_pin_and_the_current_code(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    totp = enrol_totp(world, "alice")
    old = user_row(world, "alice").totp_secret
    shown = say(world, "alice", "/totp off", PIN, "000000")  # right PIN, wrong code
    assert user_row(world, "alice").totp_secret == old and "tries left" in texts(shown)
    shown = say(world, "alice", "/totp off", PIN, totp.at(world.now()))
    assert user_row(world, "alice").totp_secret is None and "off" in texts(shown)
    # replacing: PIN, then (now not enrolled) the new QR
    shown = say(world, "alice", "/totp", "5000")
    assert not any(i.get("secret_photo") for i in shown) and user_row(world, "alice").totp_pending_secret is None


def test_totp_needs_a_pin_first(world: LocalWorld) -> None:
    say(world, "carol", "/start")
    shown = say(world, "carol", "/totp")
    assert "/pin" in texts(shown) and user_row(world, "carol").totp_pending_secret is None


# ------------------------------------------------------------------ 3 and 10. real processes at once

def _run_workers(world: LocalWorld, db_url: str, tmp: Path, texts_: list[str]) -> list[list[dict[str, Any]]]:
    go = tmp / "go"
    out = world.output_dir
    procs = [subprocess.Popen([sys.executable, "-m", "tests.bot.stepup_worker", db_url, str(out), "alice", text, f"w{i}", str(go)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
             for i, text in enumerate(texts_)]
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line.strip() == "ready", (line, p.stderr.read() if p.stderr else "")
    go.touch()
    results = []
    for p in procs:
        out_, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append([json.loads(ln) for ln in out_.splitlines() if ln.strip()])
    return results


def test_sixteen_processes_with_wrong_pins_lock_after_the_limit(world: LocalWorld, db_url: str, tmp_path: Path) -> None:
    onboard(world, "alice", topup="$50")
    say(world, "alice", "withdraw 10")
    world.render(world.press("alice", "dm", "Confirm") or [])
    results = _run_workers(world, db_url, tmp_path, [f"50{i:02d}" for i in range(16)])
    said = [r["text"] for replies in results for r in replies]
    wrong = [t for t in said if t.startswith("Wrong PIN")]
    max_attempts = world.engine.stepup.max_attempts
    # the guess that reached the limit locks; all others are answered "locked" or "no longer open"
    assert len(wrong) == max_attempts - 1, said
    assert user_row(world, "alice").stepup_locked_until is not None
    with Session(world.db) as s:
        a = s.exec(select(Action).where(Action.kind == "withdraw")).one()
    assert a.status == "cancelled" and balance(world, "alice") == 5000


def test_two_processes_with_the_right_pin_execute_once(world: LocalWorld, db_url: str, tmp_path: Path) -> None:
    onboard(world, "alice", topup="$50")
    say(world, "alice", "withdraw 10")
    world.render(world.press("alice", "dm", "Confirm") or [])
    results = _run_workers(world, db_url, tmp_path, [PIN, PIN])
    said = [r["text"] for replies in results for r in replies]
    assert sum(1 for t in said if t.startswith("PIN accepted")) == 1, said
    assert sum(1 for t in said if t.startswith("Done")) == 1, said
    assert balance(world, "alice") == 4000


# ------------------------------------------------------------------ 4. a PIN is never an answer

def test_the_pin_as_the_answer_to_how_much_is_deleted_and_never_an_amount(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$100")
    onboard(world, "bob", pin="7395")
    asked = say(world, "alice", "send money to @bob")
    assert "how much" in texts(asked).lower()
    shown = say(world, "alice", PIN)
    every = texts(shown)
    assert "4,826" not in every and "4826" not in every and not any(i.get("buttons") for i in shown), shown
    with world.db.connect() as conn:
        import sqlalchemy as sa

        from adapters.local.world import messages
        visible = conn.execute(sa.select(messages.c.text).where(messages.c.deleted == sa.false())).scalars().all()
    assert not any(re.search(r"4[,.\u00a0\u202f]?826", v) for v in visible), visible
    # the question still stands: a real amount fills it
    card = say(world, "alice", "20")
    assert "20.00" in texts(card)


# ------------------------------------------------------------------ 5. weak PINs

@pytest.mark.parametrize("pin", ["1111", "0000", "1234", "9876", "345678", "87654321", "1212", "6969", "1004", "2000"])
def test_weak_pins_are_refused_with_a_reason(world: LocalWorld, pin: str) -> None:
    say(world, "alice", "/start", "/pin")
    shown = say(world, "alice", pin, pin)
    assert "too easy to guess" in texts(shown)
    assert user_row(world, "alice").pin_hash is None


def test_weak_pin_reasons_in_every_language(world: LocalWorld) -> None:
    seen = {}
    for lang, name in (("en", "ann"), ("nb", "nils"), ("fr", "fleur")):
        world.render(world.say(name, "dm", "/start", lang=lang))
        world.render(world.say(name, "dm", "/pin", lang=lang))
        reasons = [texts(world.render(world.say(name, "dm", p, lang=lang))) for p in ("7777", "2345", "1004")]
        assert len(set(reasons)) == 3, reasons
        seen[lang] = reasons
        assert user_row(world, name).pin_hash is None
    assert seen["en"] != seen["nb"] and seen["en"] != seen["fr"] and seen["nb"] != seen["fr"]


# ------------------------------------------------------------------ 6. a PIN typed in a group is exposed

def test_a_pin_typed_in_a_group_is_deleted_and_must_be_changed(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "bob", pin="7395")
    world.render(world.members("g:trip", ["alice", "bob"]))
    typed = Event("g1", Chat("local", "g:trip", ChatKind.group), Person("local", "alice", handle="alice"),
                  world.now(), text=PIN, message_id="m1", addressed=False)
    replies = world.engine.handle(typed)
    assert any(r.kind.value == "delete" and r.target_message_id == "m1" for r in replies)
    assert any(r.chat_id == "g:trip" and "/pin" in r.text for r in replies), "the bot says so"
    assert user_row(world, "alice").pin_exposed
    say(world, "alice", "withdraw 10")
    shown = world.render(world.press("alice", "dm", "Confirm") or [])
    shown += say(world, "alice", PIN)
    assert "change it with /pin" in texts(shown).lower() and balance(world, "alice") == 5000
    shown = say(world, "alice", "/pin", PIN, PIN)
    assert "another" in texts(shown).lower(), "the exposed PIN is not chosen again"
    say(world, "alice", "5713", "5713")
    assert not user_row(world, "alice").pin_exposed
    world.render(world.press("alice", "dm", "Confirm") or [])
    say(world, "alice", "5713")
    assert balance(world, "alice") == 4000


def test_other_digits_in_a_group_are_not_touched(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    world.render(world.members("g:trip", ["alice", "bob"]))
    replies = world.engine.handle(Event("g2", Chat("local", "g:trip", ChatKind.group), Person("local", "alice", handle="alice"),
                                        world.now(), text="2026", message_id="m2", addressed=False))
    assert not any(r.kind.value == "delete" for r in replies) and not user_row(world, "alice").pin_exposed


# ------------------------------------------------------------------ 7. the QR code is not kept on disk

def test_totp_qr_is_not_left_on_disk_and_the_secret_is_given_as_text(world: LocalWorld) -> None:
    onboard(world, "alice")
    shown = say(world, "alice", "/totp", PIN)
    secret = user_row(world, "alice").totp_pending_secret
    assert secret and secret in shown[-1]["text"]
    assert shown[-1].get("secret_photo")
    out = world.output_dir
    assert not out.exists() or not [p for p in out.rglob("*") if "totp" in p.name], list(out.rglob("*"))


# ------------------------------------------------------------------ 8. each card's step-up is its own

def test_two_cards_waiting_at_once_neither_is_stuck(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    say(world, "alice", "withdraw 10")
    first = world.render(world.press("alice", "dm", "Confirm") or [])
    assert "$10.00" in first[-1]["text"], "the PIN prompt names its card"
    say(world, "alice", "withdraw 7")
    second = world.render(world.press("alice", "dm", "Confirm") or [])
    assert "$7.00" in second[-1]["text"]
    done = say(world, "alice", PIN)
    assert balance(world, "alice") == 4300
    assert "$10.00" in texts(done), "the first card is asked for next, by name"
    say(world, "alice", PIN)
    assert balance(world, "alice") == 3300


def test_second_confirm_while_pin_pending_says_it_is_awaited(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    say(world, "alice", "withdraw 10")
    token = world.newest_with_buttons("dm:alice", "Confirm")
    world.render(world.press("alice", "dm", "Confirm") or [])
    say(world, "alice", "withdraw 7")
    world.render(world.press("alice", "dm", "Confirm") or [])
    assert token is not None
    from bot.events import Press

    seq, rows = token
    again = world.engine.handle(Event("again", Chat("local", "dm:alice", ChatKind.private), Person("local", "alice", handle="alice"),
                                      world.now(), press=Press("pa", rows[0][0]["data"], seq)))
    said = [r.text for r in again]
    assert not any("Already done" in t for t in said), said
    assert any("PIN is awaited" in t for t in said) and any("$10.00" in t for t in said), said
    say(world, "alice", PIN)
    assert balance(world, "alice") == 4000  # the card pressed again is the one the PIN is for


def test_keypad_does_not_say_pin_received_after_the_locking_attempt(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    say(world, "alice", "withdraw 10")
    world.render(world.press("alice", "dm", "Confirm") or [])
    shown: list[dict[str, Any]] = []
    for wrong in ("5000", "5001", "5002", "5003", "5004"):
        for key in wrong:
            world.render(world.press("alice", "dm", key) or [], presser="alice")
        shown = world.render(world.press("alice", "dm", "OK") or [], presser="alice")
    edits = [i["text"] for i in shown if i.get("edit")]
    assert edits and not any("PIN received" in e for e in edits), shown
    assert any("locked" in e.lower() for e in edits)


# ------------------------------------------------------------------ 9. keyed hashes

def test_a_database_dump_alone_cannot_verify_a_pin(world: LocalWorld, tmp_path: Path) -> None:
    from bot.stepup import StepUp, load_pin_key

    onboard(world, "alice")
    stored = user_row(world, "alice").pin_hash
    assert stored and PIN not in stored and not stored.startswith("$argon2")
    key_file = tmp_path / "pin.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert world.engine.stepup.verify(stored, PIN)
    # without the key: no candidate of the whole 4-digit space matches, under any other key or unkeyed
    _, salt_hex, mac_hex = stored.split("$")
    salt, mac = bytes.fromhex(salt_hex), bytes.fromhex(mac_hex)
    other = StepUp(key=load_pin_key("", tmp_path / "another.key"))
    for guess in (f"{i:04d}" for i in range(10000)):
        msg = salt + b"\x00" + guess.encode()
        assert hashlib.sha256(msg).digest() != mac
        assert hmac.new(salt, guess.encode(), hashlib.sha256).digest() != mac
        assert hmac.new(b"", msg, hashlib.sha256).digest() != mac
        assert not other.verify(stored, guess)
    # a pepper setting is a key too, and a different one verifies nothing
    assert not StepUp(key=load_pin_key("not the key", tmp_path / "unused.key")).verify(stored, PIN)


def test_an_argon2_hash_keeps_working_and_is_upgraded(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    set_column(world, "alice", pin_hash=PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(PIN))
    say(world, "alice", "withdraw 10")
    world.render(world.press("alice", "dm", "Confirm") or [])
    say(world, "alice", PIN)
    assert balance(world, "alice") == 4000
    stored = user_row(world, "alice").pin_hash
    assert stored and stored.startswith("hmac-sha256$") and world.engine.stepup.verify(stored, PIN)


def test_the_key_file_is_made_once_and_shared(tmp_path: Path) -> None:
    from bot.stepup import load_pin_key

    path = tmp_path / "k" / "pin.key"
    a, b = load_pin_key("", path), load_pin_key("", path)
    assert a == b and len(a) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
