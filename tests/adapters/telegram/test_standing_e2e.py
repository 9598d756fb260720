"""Standing orders on Telegram end to end (loopback Bot API server): the card, /schedules with its buttons,
a run woken by the APScheduler clock (its due instant, on a clock the test moves), Stop, nothing after."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import Settings
from tests.adapters.telegram.harness import bot_settings, start_bot
from tests.adapters.telegram.test_with_engine import FAST_PIN, World, assert_book_holds, balances
from tests.tools.botapi_server import BotApiServer

NOW = [datetime(2026, 11, 18, 12, 0, tzinfo=UTC)]


def engine_on_test_clock(settings: Settings) -> Any:
    from adapters.cli.wiring import build_broker
    from adapters.funding.sandbox import SandboxFunding
    from bot.bootstrap import build_engine
    from ledger import create_engine

    db = create_engine(settings.database_url)
    return build_engine(settings, messenger="telegram", funding=SandboxFunding(), clock=lambda: NOW[0],
                        broker=build_broker(settings, db, lambda: NOW[0]), db=db)


def wait_for(world: World, chat: int, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        world.server.settle(5)
        if any(text in m for m in world.texts(chat)):
            return
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} in {world.texts(chat)}")


def test_standing_order_on_telegram(server: BotApiServer, sqlite_url: str) -> None:
    settings = bot_settings(server, sqlite_url, **FAST_PIN)
    world = World(server, sqlite_url, settings)
    world.bot = start_bot(settings, engine_on_test_clock(settings), tick_seconds=0.3)
    try:
        mom = server.create_user("Mom", "mom")
        alice = server.create_user("Alice", "alice")
        world.say(mom, "/start")
        world.onboard(alice, "4826")
        world.top_up(alice, 100, "4826")
        world.say(alice, "every day send @mom 5")
        card = world.last_with(alice.id, "Confirm")
        assert "Repeats: every day" in card.text and "Next runs:" in card.text
        world.press(alice, card, "Confirm")
        world.say(alice, "4826")
        wait_for(world, alice.id, "Scheduled ✅")
        world.say(alice, "/schedules")
        listed = world.last_with(alice.id, "Stop")
        assert listed.labels() == ["Pause", "Stop"]
        NOW[0] = datetime(2026, 11, 19, 9, 0, 1, tzinfo=UTC)  # past the first run: the scheduler wakes the tick
        wait_for(world, alice.id, "Standing order #1 done")
        wait_for(world, mom.id, "sent you $5.00")
        assert balances(world.url) == {"@alice": {"USD": "95.00"}, "@mom": {"USD": "5.00"}}
        world.press(alice, listed, "Stop")
        assert "Stopped" in server.message(alice.id, listed.message_id).text
        NOW[0] += timedelta(days=3)
        time.sleep(1.5)  # several safety-net ticks
        world.server.settle(5)
        assert balances(world.url) == {"@alice": {"USD": "95.00"}, "@mom": {"USD": "5.00"}}
        assert_book_holds(world.url)
    finally:
        world.stop()
