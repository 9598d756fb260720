"""Group money through the engine in the local world: the terminal chat's picture of who owes whom, the small-tip
allowance and its budget, settling one pair and partly, currencies apart, a pot's reminder and deadline, who left
out of "everyone"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.local.world import LocalWorld
from tests.bot.conftest import make_world
from tests.bot.test_engine import balance, onboard, texts
from tests.bot.test_ux import chat_session


def say(w: LocalWorld, user: str, text: str, chat: str = "g:trip", **kw: Any) -> list[dict[str, Any]]:
    return w.render(w.say(user, chat, text, **kw))


def press(w: LocalWorld, user: str, label: str, chat: str = "g:trip") -> list[dict[str, Any]]:
    return w.render(w.press(user, chat, label) or [], presser=user)


def green(w: LocalWorld) -> None:
    from bot.groups.reconcile import reconcile

    report = w.engine.ledger.check()
    assert report.ok, report.problems
    assert reconcile(w.db, w.engine.ledger) == []


def test_who_owes_what_in_the_terminal_chat_sends_the_picture(world: LocalWorld) -> None:
    for n in ("alice", "bob", "carol"):
        onboard(world, n)
    world.render(world.members("g:trip", ["alice", "bob", "carol"]))
    text = chat_session(world, ["/group trip", "I paid 90 for dinner, split with @bob @carol", "/press Confirm",
                                "who owes what?"])
    assert "@alice is owed $60.00" in text and "@carol owes $30.00" in text
    assert "debts-trip.png" in text
    assert (world.output_dir / "debts-trip.png").read_bytes()[:4] == b"\x89PNG"


def test_settle_with_one_person_partly_and_currencies_apart(world: LocalWorld) -> None:
    onboard(world, "alice")
    onboard(world, "bob", "3958", topup="$50")
    onboard(world, "carol", "5182")
    world.render(world.members("g:trip", ["alice", "bob", "carol"]))
    say(world, "alice", "I paid 90 for dinner, split with @bob @carol")
    press(world, "alice", "Confirm")
    say(world, "alice", "I paid 30 EUR for taxi, split with @bob")
    press(world, "alice", "Confirm")
    shown = say(world, "bob", "settle up with @alice")
    cards = [i for i in shown if i.get("buttons") == [["Confirm", "Cancel"]]]
    assert len(cards) == 2 and "$30.00" in texts(cards) and "€15.00" in texts(cards)  # one card a currency
    # bob pays the dollars (the newest card); he has no euros: that card offers a top-up, asks no PIN, moves nothing
    press(world, "bob", "Confirm")
    world.render(world.say("bob", "dm", "3958"))
    shown = press(world, "bob", "Confirm")  # the euro card, now the newest with buttons
    assert "Not enough money" in texts(shown) and "PIN" not in texts(shown)
    shown = say(world, "carol", "who owes what?")
    assert "@bob owes €15.00" in texts(shown) and "@bob owes $" not in texts(shown)  # paid debts leave, the rest stays
    assert "@carol owes $30.00" in texts(shown)
    assert balance(world, "bob") == 2000 and balance(world, "alice") == 3000
    green(world)


def test_small_tips_skip_the_pin_within_the_budget(db_url: str, tmp_path: Path) -> None:
    w = make_world(db_url, tmp_path / "out", tip_allowance="2", tip_budget_count=2)
    try:
        onboard(w, "alice", topup="€20")
        w.render(w.say("alice", "dm", "/currency EUR"))
        onboard(w, "bob", "3958")
        w.render(w.members("g:trip", ["alice", "bob"]))
        kinds = []
        for _ in range(3):
            say(w, "bob", "nice photo")
            shown = say(w, "alice", "tip €1", reply_to="bob")
            kinds.append("no PIN needed" in texts(shown))
            press(w, "alice", "Confirm")
            if not kinds[-1]:
                w.render(w.say("alice", "dm", "4826"))
        assert kinds == [True, True, False]  # the third is over the budget of 2: the PIN again
        say(w, "bob", "nice photo")
        shown = say(w, "alice", "tip €1", reply_to="bob")
        assert "no PIN needed" in texts(shown)  # the PIN started the budget again
        shown = say(w, "alice", "tip @bob €3")
        assert "no PIN needed" not in texts(shown)  # above the allowance
        assert balance(w, "bob", "EUR") == 300
        green(w)
    finally:
        w.db.dispose()


def test_a_pot_reminds_once_then_closes_by_itself_and_leavers_drop_out(world: LocalWorld) -> None:
    onboard(world, "alice")
    onboard(world, "bob", "3958", topup="$20")
    onboard(world, "carol", "5182")
    onboard(world, "dave", "6273")
    world.render(world.members("g:trip", ["alice", "bob", "carol", "dave"]))
    world.render(world.left("g:trip", ["dave"]))
    shown = say(world, "alice", "collect $5 from everyone for the gift")
    assert "@dave" not in texts(shown) and "Not yet: @bob, @carol" in texts(shown)
    press(world, "bob", "Pay")
    world.render(world.say("bob", "dm", "3958"))
    reminded = world.render(world.advance(timedelta(hours=25)))
    assert [i["chat"] for i in reminded if "Reminder" in i["text"]] == ["dm:carol"]
    assert not any("Reminder" in i["text"] for i in world.render(world.advance(timedelta(hours=25))))
    closed = world.render(world.advance(timedelta(days=6)))
    assert any("Closed: $5.00 went to @alice" in i["text"] for i in closed)
    assert balance(world, "alice") == 500 and balance(world, "bob") == 1500
    shown = say(world, "alice", "split 60 with everyone")
    assert "@dave" not in texts(shown) and "@carol: $20.00" in texts(shown)
    green(world)


@pytest.mark.parametrize("text", ["red packet $20 for 5 people", "collect $5 for the gift", "who owes what?"])
def test_group_money_asked_in_private_points_to_the_group(world: LocalWorld, text: str) -> None:
    onboard(world, "alice", topup="$20")
    shown = world.render(world.say("alice", "dm", text))
    assert "group" in texts(shown) and not any(i.get("buttons") for i in shown)


def test_claim_presses_racing_through_the_engine_from_four_processes(pg_url: str, tmp_path: Path) -> None:
    """12 members press Claim on a packet of 4 parts, each from 4 engine processes at once (48 presses): exactly 4
    are paid, to 4 different people, and every other press is told why not."""
    import os
    import subprocess
    import sys

    from tests.bot.conftest import START

    w = make_world(pg_url, tmp_path / "out")
    try:
        names = [f"m{i:02d}" for i in range(12)]
        onboard(w, "alice", topup="$20")
        for n in names:
            w.render(w.say(n, "dm", "/start"))
        w.render(w.members("g:trip", ["alice", *names]))
        say(w, "alice", "red packet $8 for 4 people")
        press(w, "alice", "Confirm")
        w.render(w.say("alice", "dm", "4826"))
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": "", "PIN_KEY_FILE": str(tmp_path / "pin.key")}
        got = subprocess.run([sys.executable, "-m", "tests.bot.groups.engine_claims", pg_url, START.isoformat(), "4", *names],
                             cwd=Path(__file__).resolve().parents[3], env=env, capture_output=True, text=True, timeout=300)
        assert got.returncode == 0, got.stderr
        lines = [ln for ln in got.stdout.splitlines() if ln.startswith("press ")]
        assert len(lines) == 48
        paid = [ln.split()[1] for ln in lines if "You got $2.00" in ln]
        assert len(paid) == 4 and len(set(paid)) == 4
        odd = [ln for ln in lines if not (("already claimed" in ln) or ("has been claimed" in ln) or ("You got" in ln))]
        assert odd == []  # every other press is refused with its reason
        assert sorted(balance(w, n) for n in names) == [0] * 8 + [200] * 4
        print(f"engine claim race: 12 members x 4 processes = {len(lines)} presses on 4 parts: {len(paid)} paid, "
              f"{sum('already claimed' in ln for ln in lines)} already claimed, "
              f"{sum('has been claimed' in ln for ln in lines)} all claimed")
        green(w)
    finally:
        w.db.dispose()


def test_the_red_packet_card_switches_to_lucky_parts(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$10")
    for n in ("bob", "carol"):
        world.render(world.say(n, "dm", "/start"))
    world.render(world.members("g:trip", ["alice", "bob", "carol"]))
    shown = say(world, "alice", "red packet $5 for 2 people")
    assert shown[-1]["buttons"] == [["Confirm", "Cancel"], ["🎲 Lucky parts instead"]]
    assert "Only @alice" in texts(press(world, "bob", "Lucky parts instead"))  # the sender's setting alone
    shown = press(world, "alice", "Lucky parts instead")
    assert "Lucky parts" in texts(shown) and shown[-1]["buttons"] == [["Confirm", "Cancel"], ["Equal parts instead"]]
    press(world, "alice", "Confirm")
    world.render(world.say("alice", "dm", "4826"))
    press(world, "bob", "Claim")
    press(world, "carol", "Claim")
    assert balance(world, "bob") + balance(world, "carol") == 500 and min(balance(world, "bob"), balance(world, "carol")) >= 1
    assert balance(world, "alice") == 500
    green(world)
