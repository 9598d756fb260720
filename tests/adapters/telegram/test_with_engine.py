"""finbot on Telegram end to end: the real engine, ledger and transport over HTTP against the loopback server.

After every conversation the balances come from `finbot ledger balances --json` and the whole book
is verified with `finbot ledger check`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.cli.main import app as finbot_cli
from bot.config import Settings
from tests.adapters.telegram.harness import BotThread, bot_settings, spawn_bot, start_bot
from tests.tools.botapi_server import BotApiServer, Seen, User

FAST_PIN = {"pin_argon2_time_cost": 1, "pin_argon2_memory_kib": 8192}


def build_engine(settings: Settings) -> Any:
    """The engine as `finbot run` wires it: sandbox funding, the paper broker, one database."""
    from adapters.cli.wiring import build_broker
    from adapters.funding.sandbox import SandboxFunding
    from bot.bootstrap import build_engine as build
    from ledger import create_engine

    db = create_engine(settings.database_url)
    return build(settings, messenger="telegram", funding=SandboxFunding(),
                 broker=build_broker(settings, db, None), db=db)


def finbot(*args: str) -> tuple[int, str]:
    """Run a `finbot` command in-process; its exit code and output."""
    result = CliRunner().invoke(finbot_cli, list(args))
    return result.exit_code, result.output


def balances(url: str) -> dict[str, dict[str, str]]:
    """`finbot ledger balances --json`, without zero balances."""
    code, out = finbot("ledger", "balances", "--db", url, "--json")
    assert code == 0, out
    data: dict[str, dict[str, str]] = json.loads(out)
    return {k: {a: v for a, v in assets.items() if v not in ("0", "0.00")} for k, assets in data.items()
            if any(v not in ("0", "0.00") for v in assets.values())}


def assert_book_holds(url: str) -> None:
    """`finbot ledger check` passes."""
    code, out = finbot("ledger", "check", "--db", url)
    assert code == 0 and "every invariant holds" in out, out


@dataclass
class World:
    """The server, the running bot and its database."""

    server: BotApiServer
    url: str
    settings: Settings
    bot: BotThread | None = None

    def start(self) -> None:
        self.bot = start_bot(self.settings, build_engine(self.settings))

    def stop(self) -> None:
        if self.bot is not None:
            self.bot.close()
            self.bot = None

    # -------------------------------------------------------------- acting as people

    def say(self, user: User, text: str, chat: int | None = None, **kw: Any) -> dict[str, Any]:
        msg = self.server.send(user, text, chat, **kw)
        self.server.settle(30)
        return msg

    def press(self, user: User, message: Seen, label: str) -> Any:
        got = self.server.press(user, message, label)
        self.server.settle(30)
        return got

    def last(self, chat: int) -> Seen:
        return self.server.messages(chat, from_bot=True)[-1]

    def last_with(self, chat: int, label: str) -> Seen:
        for m in reversed(self.server.messages(chat, from_bot=True)):
            if any(label.lower() in lab.lower() for lab in m.labels()):
                return m
        raise AssertionError(f"no message with {label!r} in {chat}: {self.texts(chat)}")

    def texts(self, chat: int) -> list[str]:
        return [m.text for m in self.server.messages(chat, from_bot=True)]

    def onboard(self, user: User, pin: str) -> None:
        """/start, then /pin and the PIN twice; each typed PIN is deleted from the chat."""
        self.say(user, "/start")
        assert "Welcome" in self.texts(user.id)[0]
        self.say(user, "/pin")
        typed = [self.say(user, pin), self.say(user, pin)]
        assert all(self.server.message(user.id, m["message_id"]).deleted for m in typed)
        assert "Your PIN is set." in self.texts(user.id)

    def top_up(self, user: User, dollars: int, pin: str) -> Seen:
        """Top up, confirm the card, type the PIN; the card ends edited."""
        self.say(user, f"top up ${dollars}")
        card = self.last_with(user.id, "Confirm")
        self.press(user, card, "Confirm")
        assert "PIN" in self.last(user.id).text
        typed = self.say(user, pin)
        assert self.server.message(user.id, typed["message_id"]).deleted
        return self.server.message(user.id, card.message_id)


@pytest.fixture
def world(server: BotApiServer, sqlite_url: str, mode: str) -> Iterator[World]:
    w = World(server, sqlite_url, bot_settings(server, sqlite_url, webhook=mode == "webhook", **FAST_PIN))
    w.start()
    yield w
    w.stop()


@pytest.fixture(params=["polling", "webhook"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_onboarding_and_a_deposit(world: World) -> None:
    alice = world.server.create_user("Alice", "alice")
    world.onboard(alice, "4826")
    card = world.top_up(alice, 100, "4826")
    assert card.buttons == [] and card.history, "the card is edited after execution"
    assert balances(world.url) == {"@alice": {"USD": "100.00"}}
    assert_book_holds(world.url)
    commands = world.server.commands("nb")
    assert commands and commands[0]["command"] == "start"
    assert world.server.commands("fr") and world.server.commands("en")


def test_group_split_and_send_step_up_in_private_and_refuse_other_members(world: World) -> None:
    s = world.server
    alice, bob, carol = (s.create_user(n, n.lower()) for n in ("Alice", "Bob", "Carol"))
    world.onboard(alice, "4826")
    world.top_up(alice, 100, "4826")
    world.onboard(bob, "3958")
    world.top_up(bob, 40, "3958")
    group = s.create_group("Trip", alice, [bob, carol])
    s.settle()
    world.say(alice, "/split@finbot_test_bot 60 @bob @carol dinner", group)
    card = world.last_with(group, "Cancel")
    world.press(carol, card, "Confirm")
    [refused] = s.answers(carol)
    assert refused.show_alert and "@alice" in refused.text
    world.press(alice, card, "Confirm")
    request = world.last_with(group, "Pay")
    assert "@bob" in request.text and "@carol" in request.text
    assert request.button("Pay")["url"].startswith("https://t.me/finbot_test_bot?start=")
    world.press(bob, request, "Pay")  # a deep link: /start <token> in Bob's private chat
    assert "PIN" in world.last(bob.id).text
    world.say(bob, "3958")
    world.press(carol, world.last_with(group, "Decline"), "Decline")
    world.say(alice, "@finbot_test_bot send $15 to @bob", group)
    card = world.last_with(group, "Confirm")
    assert card.button("Confirm")["url"].startswith("https://t.me/finbot_test_bot?start=")
    world.press(alice, card, "Confirm")  # the step-up happens in private
    assert "PIN" in world.last(alice.id).text
    world.say(alice, "4826")
    assert balances(world.url) == {"@alice": {"USD": "105.00"}, "@bob": {"USD": "35.00"}}
    assert_book_holds(world.url)
    assert not any(m.text.isdigit() for m in s.messages(group, deleted=True)), "no PIN in the group"


def test_a_replayed_update_moves_no_money_twice(world: World) -> None:
    s = world.server
    alice = s.create_user("Alice", "alice")
    world.onboard(alice, "4826")
    world.top_up(alice, 100, "4826")
    seen = world.texts(alice.id)
    for update in s.history():
        s.replay(update["update_id"])
    s.settle(30)
    assert world.texts(alice.id) == seen
    assert balances(world.url) == {"@alice": {"USD": "100.00"}}
    assert_book_holds(world.url)


def test_restart_in_the_middle_of_a_conversation(world: World) -> None:
    s = world.server
    alice = s.create_user("Alice", "alice")
    world.onboard(alice, "4826")
    world.say(alice, "top up $100")
    card = world.last_with(alice.id, "Confirm")
    world.stop()
    s.press(alice, card, "Confirm")   # pressed while the bot is down
    time.sleep(0.2)
    assert s.pending_updates() == 1
    world.start()                     # a new engine and transport on the same database
    s.settle(30)
    assert "PIN" in world.last(alice.id).text
    world.say(alice, "4826")
    assert balances(world.url) == {"@alice": {"USD": "100.00"}}
    assert_book_holds(world.url)


@pytest.mark.parametrize("mode", ["webhook"])  # polling mode has its storm in test_transport.py
def test_a_storm_of_429s(world: World) -> None:
    s = world.server
    alice = s.create_user("Alice", "alice")
    world.onboard(alice, "4826")
    storm = ("sendMessage", "editMessageText", "answerCallbackQuery", "deleteMessage")
    for method in storm:
        s.fail_next(method, 1, retry_after=1)
    card = world.top_up(alice, 100, "4826")
    assert card.buttons == []
    refused = sorted(c.method for c in s.calls if not c.ok)
    assert refused == sorted(storm)  # each met a 429, waited and went through
    assert balances(world.url) == {"@alice": {"USD": "100.00"}}
    assert_book_holds(world.url)


def test_finbot_run_killed_mid_conversation_resumes(server: BotApiServer, sqlite_url: str, tmp_path: Path) -> None:
    env = {"PIN_ARGON2_TIME_COST": "1", "PIN_ARGON2_MEMORY_KIB": "8192"}
    proc = spawn_bot(server, sqlite_url, tmp_path / "bot.log", finbot_run=True, env=env)
    w = World(server, sqlite_url, bot_settings(server, sqlite_url))
    try:
        proc.wait_ready(server)
        alice = server.create_user("Alice", "alice")
        w.onboard(alice, "4826")
        w.say(alice, "top up $100")
        card = w.last_with(alice.id, "Confirm")
        proc.kill()  # SIGKILL: no goodbye
        server.press(alice, card, "Confirm")
        proc = spawn_bot(server, sqlite_url, tmp_path / "bot.log", finbot_run=True, env=env)
        proc.wait_ready(server)
        server.settle(30)
        server.wait_until(lambda: "PIN" in w.last(alice.id).text, 20)
        w.say(alice, "4826")
        server.wait_until(lambda: server.message(alice.id, card.message_id).history, 20)
    finally:
        proc.terminate()
    assert balances(sqlite_url) == {"@alice": {"USD": "100.00"}}
    assert_book_holds(sqlite_url)


def test_portfolio_chart_arrives_as_a_photo(server: BotApiServer, sqlite_url: str) -> None:
    """A buy through Telegram (card with the quote, PIN), then the portfolio: text and a PNG chart."""
    from datetime import UTC, datetime

    from adapters.cli.wiring import build_broker
    from adapters.funding.sandbox import SandboxFunding
    from bot.bootstrap import build_engine as build
    from ledger import create_engine

    settings = bot_settings(server, sqlite_url, **FAST_PIN)
    market_hours = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # a Wednesday, New York open

    def clock() -> datetime:
        return market_hours

    db = create_engine(settings.database_url)
    engine = build(settings, messenger="telegram", funding=SandboxFunding(), broker=build_broker(settings, db, clock),
                   db=db, clock=clock)
    w = World(server, sqlite_url, settings, bot=start_bot(settings, engine))
    try:
        alice = server.create_user("Alice", "alice")
        w.onboard(alice, "4826")
        w.top_up(alice, 1000, "4826")
        w.say(alice, "buy 2 shares of AAPL")
        card = w.last_with(alice.id, "Confirm")
        assert "Quote" in card.text and "AAPL" in card.text
        w.press(alice, card, "Confirm")
        w.say(alice, "4826")
        assert "Filled" in server.message(alice.id, card.message_id).text
        w.say(alice, "my portfolio")
        shown = w.last(alice.id)
        assert shown.photo is not None and shown.photo.content.startswith(b"\x89PNG"), shown
        assert "AAPL" in shown.text
    finally:
        w.stop()
    assert balances(sqlite_url) == {"@alice": {"USD": "694.50"}}
    assert_book_holds(sqlite_url)


def test_a_reply_that_cannot_be_delivered_is_a_dead_letter_an_operator_sees(
    server: BotApiServer, sqlite_url: str, mode: str
) -> None:
    """Bob's chat answers 200 with ok:false (python-telegram-bot raises KeyError): the money still
    moves, Alice's conversation goes on, and `/admin deadletters` shows what Bob never got."""
    settings = bot_settings(server, sqlite_url, webhook=mode == "webhook", finbot_operators="alice",
                            **FAST_PIN)
    w = World(server, sqlite_url, settings)
    w.start()
    try:
        s = server
        alice, bob = s.create_user("Alice", "alice"), s.create_user("Bob", "bob")
        w.say(bob, "/start")
        broken = s.fail("sendMessage", chat_id=bob.id, ok_false=True, code=400)
        w.onboard(alice, "4826")
        w.top_up(alice, 100, "4826")
        w.say(alice, "send $15 to @bob")
        card = w.last_with(alice.id, "Confirm")
        w.press(alice, card, "Confirm")
        w.say(alice, "4826")
        s.wait_until(lambda: s.message(alice.id, card.message_id).history, 10)
        assert balances(w.url) == {"@alice": {"USD": "85.00"}, "@bob": {"USD": "15.00"}}
        assert broken.hits >= 1 and len(w.texts(bob.id)) == 1  # only the welcome got through
        w.say(alice, "/admin deadletters")  # an operator's command: Confirm, then their own PIN
        w.press(alice, w.last_with(alice.id, "Confirm"), "Confirm")
        w.say(alice, "4826")
        s.wait_until(lambda: "Dead letters" in w.last(alice.id).text, 10)
        shown = w.last(alice.id).text
        assert "Dead letters (1 in all)" in shown, shown
        assert f"chat {bob.id}" in shown and "KeyError: 'result'" in shown and "$15" in shown, shown
        s.heal(broken)
        w.say(bob, "/start")
        assert len(w.texts(bob.id)) == 2, "Bob's chat works again once his chat is healed"
        assert_book_holds(w.url)
    finally:
        w.stop()


def test_a_chat_keeps_working_while_another_chats_replies_fail(
    server: BotApiServer, sqlite_url: str, mode: str
) -> None:
    """Every reply to Bob fails with a 5xx (retried, then given up); Alice onboards, tops up and
    sees everything meanwhile, in order."""
    w = World(server, sqlite_url, bot_settings(server, sqlite_url, webhook=mode == "webhook", **FAST_PIN))
    w.start()
    try:
        s = server
        alice, bob = s.create_user("Alice", "alice"), s.create_user("Bob", "bob")
        down = s.fail(chat_id=bob.id, code=502)
        w.say(bob, "/start")
        w.say(bob, "show balance")
        w.onboard(alice, "4826")
        card = w.top_up(alice, 100, "4826")
        assert card.buttons == [] and card.history
        assert balances(w.url) == {"@alice": {"USD": "100.00"}}
        assert w.texts(bob.id) == [] and down.hits >= 2
        assert w.bot is not None and w.bot.transport is not None
        store = w.bot.transport.store
        s.wait_until(lambda: len(store.dead_letters()) == 2, 10)
        assert all(d.attempts == 4 and d.error == "NetworkError: Bad Gateway"
                   for d in store.dead_letters())
        s.heal(down)
        w.say(bob, "show balance")
        assert len(w.texts(bob.id)) == 1
    finally:
        w.stop()


def test_finbot_run_starts_on_an_outbox_with_rows_that_no_longer_read(
    server: BotApiServer, sqlite_url: str, tmp_path: Path
) -> None:
    """`finbot run` itself, in its own process, over an outbox an earlier release left with a row
    whose payload does not parse: it starts, gives the row up as a dead letter, and answers."""
    import sqlalchemy as sa

    from adapters.telegram.store import TelegramStore

    TelegramStore(sqlite_url).close()
    db = sa.create_engine(sqlite_url)
    with db.begin() as conn:
        conn.execute(sa.text("INSERT INTO tg_outbox (source, reply, status, created_at) "
                             "VALUES ('update:1', '{\"kind\": \"message\", \"chat_id\": ', 'pending', 0)"))
    db.dispose()
    log = tmp_path / "bot.log"
    proc = spawn_bot(server, sqlite_url, log, finbot_run=True)
    w = World(server, sqlite_url, bot_settings(server, sqlite_url))
    try:
        proc.wait_ready(server)
        alice = server.create_user("Alice", "alice")
        w.say(alice, "/start")
        server.wait_until(lambda: w.texts(alice.id) and "Welcome" in w.texts(alice.id)[0], 20)
        assert proc.proc.poll() is None
    finally:
        assert proc.terminate() == 0
    [letter] = TelegramStore(sqlite_url).dead_letters()
    assert letter.error.startswith("payload does not read: JSONDecodeError"), letter
    assert "dead letter" in log.read_text()
