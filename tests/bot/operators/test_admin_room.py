"""/admin through the real engine (terminal chat): each command behind the operator's own Confirm and PIN,
approval cards to the other operators, the maker refused, the single operator refused, freezes holding money."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from adapters.local.world import LocalWorld
from bot.models import User
from bot.operators.models import Approval, AuditRow
from tests.bot.conftest import make_world
from tests.bot.test_engine import balance, onboard, texts

PINS = {"ops1": "5182", "ops2": "6394", "alice": "4826", "bob": "7319"}


def say(w: LocalWorld, user: str, text: str) -> list[dict[str, Any]]:
    return w.render(w.say(user, "dm", text))


def press(w: LocalWorld, user: str, label: str) -> list[dict[str, Any]]:
    return w.render(w.press(user, "dm", label) or [])


def act(w: LocalWorld, op: str, command: str) -> list[dict[str, Any]]:
    """An operator's /admin command, confirmed with Confirm and their own PIN."""
    shown = say(w, op, command)
    shown += press(w, op, "Confirm")
    return shown + say(w, op, PINS[op])


def approve(w: LocalWorld, op: str) -> list[dict[str, Any]]:
    return press(w, op, "Approve") + say(w, op, PINS[op])


def user_row(w: LocalWorld, handle: str) -> User:
    with Session(w.db) as s:
        return s.exec(select(User).where(User.handle == handle)).one()


def verbs(w: LocalWorld) -> list[str]:
    with Session(w.db) as s:
        return [r.verb for r in s.exec(select(AuditRow).order_by(AuditRow.seq)).all()]


def _world(url: str, tmp_path: Path, operators: str) -> Iterator[LocalWorld]:
    w = make_world(url, tmp_path / "out", finbot_operators=operators)
    for name in operators.split(","):
        onboard(w, name, PINS[name])
    onboard(w, "alice", PINS["alice"], topup="$100")
    onboard(w, "bob", PINS["bob"])
    yield w
    assert w.engine.ledger.check().ok
    w.db.dispose()


@pytest.fixture
def two(sqlite_url: str, tmp_path: Path) -> Iterator[LocalWorld]:
    yield from _world(sqlite_url, tmp_path, "ops1,ops2")


@pytest.fixture
def two_both(db_url: str, tmp_path: Path) -> Iterator[LocalWorld]:
    yield from _world(db_url, tmp_path, "ops1,ops2")


@pytest.fixture
def one(sqlite_url: str, tmp_path: Path) -> Iterator[LocalWorld]:
    yield from _world(sqlite_url, tmp_path, "ops1")


def test_help_lists_every_verb_and_needs_no_pin(two: LocalWorld) -> None:
    shown = texts(say(two, "ops1", "/admin help"))
    for verb in ("freeze", "unfreeze", "reverse", "limits", "tier", "unlock", "pin-reset", "user", "stats", "audit", "check", "deadletters"):
        assert f"/admin {verb}" in shown, verb
    assert "Only operators" in texts(say(two, "alice", "/admin help"))
    assert "private chat" in texts(two.render(two.say("ops1", "g:team", "/admin help")))


def test_every_command_waits_for_the_operators_own_pin(two: LocalWorld) -> None:
    shown = say(two, "ops1", "/admin stats")
    assert any("Confirm" in str(i.get("buttons")) for i in shown) and "started" not in texts(shown)
    press(two, "ops1", "Confirm")
    assert "started" in texts(say(two, "ops1", PINS["ops1"]))
    assert verbs(two) == ["stats"]


def test_freeze_stops_money_and_unfreeze_takes_a_second_operator(two_both: LocalWorld) -> None:
    w = two_both
    shown = act(w, "ops1", "/admin freeze @alice fraud report")
    assert any(i["chat"] == "dm:alice" and "under review" in i["text"] for i in shown)
    assert "under review" in texts(say(w, "alice", "send $10 to @bob"))
    assert "under review" in texts(say(w, "alice", "withdraw $10"))
    assert "under review" in texts(say(w, "alice", "buy 1 AAPL"))
    assert "$100.00" in texts(say(w, "alice", "balance"))  # can see the balance
    say(w, "bob", "top up $20")
    press(w, "bob", "Confirm")
    say(w, "bob", PINS["bob"])
    say(w, "bob", "send $5 to @alice")
    press(w, "bob", "Confirm")
    say(w, "bob", PINS["bob"])
    assert balance(w, "alice") == 10500  # can receive
    shown = act(w, "ops1", "/admin unfreeze @alice")
    assert any(i["chat"] == "dm:ops2" and ["Approve", "Reject"] in (i.get("buttons") or []) for i in shown)
    assert "under review" in texts(say(w, "alice", "send $10 to @bob"))  # still frozen
    approve(w, "ops2")
    say(w, "alice", "send $10 to @bob")
    press(w, "alice", "Confirm")
    say(w, "alice", PINS["alice"])
    assert balance(w, "alice") == 9500
    assert verbs(w) == ["freeze", "unfreeze.requested", "unfreeze"]


def test_a_single_operator_is_told_a_second_is_needed(one: LocalWorld) -> None:
    act(one, "ops1", "/admin freeze @alice")
    shown = say(one, "ops1", "/admin unfreeze @alice")
    assert "second operator is needed" in texts(shown) and not any(i.get("buttons") for i in shown)
    for command in ("/admin unlock @alice", "/admin pin-reset @alice", "/admin tier @alice 1", "/admin limits @alice per_payment=5000"):
        assert "second operator is needed" in texts(say(one, "ops1", command)), command
    assert "frozen" in texts(act(one, "ops1", "/admin user @alice"))


def test_the_maker_never_approves_their_own(two: LocalWorld) -> None:
    act(two, "ops1", "/admin pin-reset @alice")
    shown = press(two, "ops1", "Approve")
    assert "yourself" in texts(shown)
    assert user_row(two, "alice").pin_hash
    shown = approve(two, "ops2")
    assert user_row(two, "alice").pin_hash is None
    assert any(i["chat"] == "dm:alice" and "/pin" in i["text"] for i in shown)
    assert verbs(two) == ["pin-reset.requested", "approval.refused_own", "pin-reset"]
    say(two, "alice", "/admin freeze @bob")  # not an operator: refused, and recorded
    assert verbs(two)[-1] == "admin.refused"


def test_reverse_partial_then_refused_beyond_the_rest(two: LocalWorld) -> None:
    say(two, "alice", "send $40 to @bob")
    press(two, "alice", "Confirm")
    say(two, "alice", PINS["alice"])
    tid = next(line.split(" · ")[0].strip() for line in texts(act(two, "ops1", "/admin user @bob")).splitlines()
               if " · " in line and "$40.00" in line)
    act(two, "ops1", f"/admin reverse {tid} 15 wrong amount")
    assert balance(two, "bob") == 4000
    approve(two, "ops2")
    assert (balance(two, "alice"), balance(two, "bob")) == (7500, 2500)
    assert "Only $25.00" in texts(say(two, "ops1", f"/admin reverse {tid} 30 again"))
    assert "approved by @ops2" in texts(act(two, "ops1", "/admin audit @bob"))


def test_tier_and_limits_raise_with_a_checker_lower_at_once(two: LocalWorld) -> None:
    act(two, "ops1", "/admin limits @alice per_day=30")
    say(two, "alice", "send $20 to @bob")
    press(two, "alice", "Confirm")
    say(two, "alice", PINS["alice"])
    assert "a day" in texts(say(two, "alice", "send $20 to @bob"))
    act(two, "ops1", "/admin tier @alice 1")
    assert user_row(two, "alice").kyc_tier == 0
    approve(two, "ops2")
    assert user_row(two, "alice").kyc_tier == 1
    act(two, "ops2", "/admin tier @alice 0")
    assert user_row(two, "alice").kyc_tier == 0
    assert "themselves" in texts(say(two, "ops1", "/admin tier @ops1 2"))


def test_unlock_reject_and_expiry(two: LocalWorld) -> None:
    for _ in range(5):
        say(two, "alice", "send $1 to @bob")
        press(two, "alice", "Confirm")
        say(two, "alice", "9999")
    assert user_row(two, "alice").stepup_locked_until is not None
    act(two, "ops1", "/admin unlock @alice")
    press(two, "ops2", "Reject")
    assert user_row(two, "alice").stepup_locked_until is not None
    act(two, "ops1", "/admin unlock @alice please")
    two.set_now(two.now() + timedelta(seconds=two.engine.app.settings.approval_ttl_seconds + 60))
    shown = two.render(two.engine.tick())
    assert any(i["chat"] == "dm:ops1" and "in time" in i["text"] for i in shown)
    with Session(two.db) as s:
        assert sorted(a.status for a in s.exec(select(Approval)).all()) == ["expired", "rejected"]
    assert "expired" in texts(press(two, "ops2", "Approve"))


def test_check_and_deadletters(two: LocalWorld) -> None:
    assert "audit chain" in texts(act(two, "ops1", "/admin check"))
    assert "dead letters" in texts(act(two, "ops1", "/admin deadletters")).lower()
