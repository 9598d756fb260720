"""The outbox against a Bot API server that fails: dead letters, retries with backoff, one chat never
blocking another, a background task that survives, a start on bad rows, polling that does not spin."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.telegram.flood import FloodLimits
from adapters.telegram.outbox import OutboxPolicy
from adapters.telegram.store import TelegramStore
from bot.events import Reply, ReplyKind
from tests.adapters.telegram.fakes import FakeEngine
from tests.adapters.telegram.harness import BotThread, bot_settings, start_bot
from tests.tools.botapi_server import BotApiServer, User


@pytest.fixture(params=["polling", "webhook"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def bot(server: BotApiServer, engine: FakeEngine, mode: str, sqlite_url: str) -> Iterator[BotThread]:
    running = start_bot(bot_settings(server, sqlite_url, webhook=mode == "webhook"), engine,
                        tick_seconds=0.1)
    yield running
    running.close()


def texts(server: BotApiServer, chat_id: int) -> list[str]:
    return [m.text for m in server.messages(chat_id, from_bot=True)]


def store_of(bot: BotThread) -> TelegramStore:
    assert bot.transport is not None
    return bot.transport.store


def started(server: BotApiServer, name: str) -> User:
    """A person who has opened the private chat (so the bot may write to them)."""
    user = server.create_user(name, name.lower())
    server.send(user, "/start")
    server.settle()
    server.wait_until(lambda: texts(server, user.id) == ["hello"])
    return user


def tries_to(server: BotApiServer, chat_id: int, method: str = "sendMessage") -> list[float]:
    """When the bot called `method` for `chat_id`, refused or not."""
    return [c.at for c in server.calls_of(method) if c.params.get("chat_id") == chat_id]


# ------------------------------------------------------------------ non-retryable: at once a dead letter


def test_a_200_carrying_ok_false_is_a_dead_letter_and_other_chats_keep_talking(
    server: BotApiServer, bot: BotThread, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob = started(server, "Alice"), started(server, "Bob")
    server.fail("sendMessage", chat_id=bob.id, ok_false=True, code=400,
                description="Bad Request: something odd")
    caplog.set_level(logging.ERROR, logger="finbot.telegram")
    server.send(alice, f"tell {bob.id}")      # psst to Bob (refused), told to Alice
    server.send(bob, "are you there")         # Bob's own reply is refused too
    server.send(alice, "next")
    server.settle()
    server.wait_until(lambda: texts(server, alice.id)[-1:] == ["got: next"])
    assert texts(server, alice.id) == ["hello", "told", "got: next"]
    assert texts(server, bob.id) == ["hello"]
    store = store_of(bot)
    server.wait_until(lambda: len(store.dead_letters()) == 2)
    letters = store.dead_letters()
    assert {d.summary for d in letters} == {"psst", "got: are you there"}
    assert all(d.chat_id == str(bob.id) and d.error == "KeyError: 'result'" and d.attempts == 1
               for d in letters), letters
    assert store.pending() == []
    assert len(tries_to(server, bob.id)) == 1 + 2, "each refused reply was tried once, not again"
    logged = [r.getMessage() for r in caplog.records if "dead letter" in r.getMessage()]
    assert len(logged) == 2 and all("KeyError: 'result'" in line for line in logged), logged


def test_a_404_on_send_document_is_a_dead_letter_and_the_chat_goes_on(
    server: BotApiServer, bot: BotThread
) -> None:
    alice = started(server, "Alice")
    server.fail("sendDocument", code=404)
    server.send(alice, "doc")
    server.send(alice, "after the document")
    server.settle()
    server.wait_until(lambda: texts(server, alice.id)[-1:] == ["got: after the document"], 5)
    [letter] = store_of(bot).dead_letters()
    assert letter.kind == "message" and letter.summary == "statement" and letter.attempts == 1
    assert letter.error.startswith("InvalidToken: Not Found"), letter.error
    assert len(server.calls_of("sendDocument")) == 1


@pytest.mark.parametrize("mode", ["polling"])
def test_refused_replies_of_every_kind_become_dead_letters(server: BotApiServer, bot: BotThread) -> None:
    alice, bob = started(server, "Alice"), server.create_user("Bob", "bob")
    server.send(alice, f"tell {bob.id}")        # Bob never started the bot: 403
    server.send(alice, "tell -4242")            # no such chat: 400 chat not found
    server.settle()
    server.wait_until(lambda: texts(server, alice.id) == ["hello", "told", "told"])
    store = store_of(bot)
    server.wait_until(lambda: len(store.dead_letters()) == 2)
    errors = sorted(d.error for d in store.dead_letters())
    assert errors[0] == "BadRequest: Chat not found", errors
    assert errors[1].startswith("Forbidden: Forbidden: bot can't initiate"), errors


# ------------------------------------------------------------------ retryable: bounded tries with backoff


def test_a_5xx_is_retried_with_backoff_then_a_dead_letter(server: BotApiServer, bot: BotThread) -> None:
    alice, bob = started(server, "Alice"), started(server, "Bob")
    server.fail("sendMessage", chat_id=bob.id, code=500)
    server.send(bob, "hello?")
    server.send(alice, "meanwhile")
    server.settle()
    server.wait_until(lambda: texts(server, alice.id)[-1:] == ["got: meanwhile"], 5)
    store = store_of(bot)
    server.wait_until(lambda: store.dead_letters(), 10)
    [letter] = store.dead_letters()
    assert letter.attempts == 4 and letter.error == "NetworkError: Internal Server Error"
    stamps = tries_to(server, bob.id)[1:]  # after the /start answer
    assert len(stamps) == 4
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2, gaps  # 50 ms, doubling


@pytest.mark.parametrize("fault", ["500", "502", "drop", "429"])
def test_transient_failures_deliver_in_order(server: BotApiServer, bot: BotThread, fault: str) -> None:
    alice, bob = started(server, "Alice"), started(server, "Bob")
    kw: dict[str, Any] = {"drop": True} if fault == "drop" else {"code": int(fault)}
    server.fail("sendMessage", chat_id=bob.id, times=2, **kw)
    server.send(bob, "burst 3")
    server.send(alice, "meanwhile")
    server.settle()
    server.wait_until(lambda: texts(server, bob.id) == ["hello", "burst 0", "burst 1", "burst 2"], 10)
    assert texts(server, alice.id) == ["hello", "got: meanwhile"]
    server.wait_until(lambda: store_of(bot).pending() == [], 5)  # the last one marked sent
    assert store_of(bot).dead_letters() == []


def test_a_network_drop_that_lasts_is_a_dead_letter(server: BotApiServer, bot: BotThread) -> None:
    bob = started(server, "Bob")
    server.fail("sendMessage", chat_id=bob.id, drop=True)
    server.send(bob, "anyone")
    server.settle()
    store = store_of(bot)
    server.wait_until(lambda: store.dead_letters(), 10)
    [letter] = store.dead_letters()
    assert letter.attempts == 4 and letter.error.startswith("NetworkError: httpx.RemoteProtocolError")


def test_a_429_on_one_chat_honours_retry_after_there_and_holds_up_no_other_chat(
    server: BotApiServer, engine: FakeEngine, sqlite_url: str
) -> None:
    policy = OutboxPolicy(max_attempts=2, backoff_base=0.05, idle_seconds=0.05, wait_seconds=0.2)
    running = start_bot(bot_settings(server, sqlite_url), engine, outbox=policy,
                        limits=FloodLimits(chat_burst=50, max_retries=1))
    try:
        alice, bob = started(server, "Alice"), started(server, "Bob")
        server.fail("sendMessage", chat_id=bob.id, code=429, retry_after=1)
        server.send(bob, "flooded")
        time.sleep(0.2)
        t0 = time.monotonic()
        server.send(alice, "not flooded")
        server.wait_until(lambda: texts(server, alice.id)[-1:] == ["got: not flooded"], 5)
        assert time.monotonic() - t0 < 0.8, "Alice waited for Bob's retry_after"
        store = running.transport.store if running.transport else None
        assert store is not None
        server.wait_until(lambda: store.dead_letters(), 10)
        [letter] = store.dead_letters()
        assert letter.attempts == 2 and letter.error.startswith("RetryAfter")
        stamps = tries_to(server, bob.id)[1:]
        assert len(stamps) == 4  # two tries, each retried once by the limiter after retry_after
        gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
        assert all(g >= 1.0 for g in gaps), gaps
    finally:
        running.close()


# ------------------------------------------------------------------ the background task


def test_the_background_task_survives_a_reply_that_raises(
    server: BotApiServer, bot: BotThread, engine: FakeEngine
) -> None:
    alice = started(server, "Alice")
    fault = server.fail("sendMessage", chat_id=alice.id, ok_false=True, code=400, times=1)
    engine.due.append(Reply(ReplyKind.message, str(alice.id), "first due reply"))
    server.wait_until(lambda: fault.hits == 1, 5)
    engine.due.append(Reply(ReplyKind.message, str(alice.id), "second due reply"))
    server.wait_until(lambda: texts(server, alice.id)[-1:] == ["second due reply"], 5)
    assert [d.summary for d in store_of(bot).dead_letters()] == ["first due reply"]


class BuggyStore(TelegramStore):
    """The real store with a bug: reading when the next retry is due raises, the first few times."""

    def __init__(self, url: str, failures: int) -> None:
        super().__init__(url)
        self.failures = failures

    def next_due(self, after: float = 0.0) -> float | None:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("a bug in the outbox")
        return super().next_due(after)


def test_the_background_task_logs_and_survives_a_bug(
    server: BotApiServer, engine: FakeEngine, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="finbot.telegram")
    store = BuggyStore(sqlite_url, failures=3)
    running = start_bot(bot_settings(server, sqlite_url), engine, store=store)
    try:
        alice = started(server, "Alice")
        server.wait_until(lambda: store.failures == 0, 10)  # the task met the bug three times
        server.fail("sendMessage", chat_id=alice.id, code=500, times=1)
        server.send(alice, "retry me")  # fails once; only the background task can retry it
        server.wait_until(lambda: texts(server, alice.id)[-1:] == ["got: retry me"], 10)
        bugs = [r for r in caplog.records if "outbox task failed" in r.getMessage()]
        assert len(bugs) == 3 and all(r.exc_info for r in bugs)
    finally:
        running.close()


# ------------------------------------------------------------------ start-up on what is in the outbox


OLD_OUTBOX = """CREATE TABLE tg_outbox (
    id INTEGER NOT NULL {pk}, source VARCHAR(64) NOT NULL, reply TEXT NOT NULL,
    status VARCHAR(16) NOT NULL, message_id VARCHAR(64), created_at FLOAT NOT NULL)"""


def test_start_up_never_crashes_on_what_is_in_the_outbox(
    server: BotApiServer, engine: FakeEngine, db_url: str
) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")   # the bot is down: this waits on the server
    good = Reply(ReplyKind.message, str(alice.id), "left over from before")
    from adapters.telegram.store import encode_reply

    db = sa.create_engine(db_url)
    pk = "PRIMARY KEY" if db.dialect.name == "sqlite" else "GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    with db.begin() as conn:  # the outbox as an earlier release left it, with rows that no longer read
        conn.exec_driver_sql(OLD_OUTBOX.format(pk=pk))
        for payload in ("{not json", json.dumps({"kind": "fax", "chat_id": str(alice.id)}),
                        json.dumps({"kind": "message"}), encode_reply(good)):
            conn.execute(sa.text("INSERT INTO tg_outbox (source, reply, status, created_at) "
                                 "VALUES ('update:1', :r, 'pending', 0)"), {"r": payload})
    db.dispose()
    running = start_bot(bot_settings(server, db_url), engine)
    try:
        server.settle()
        server.wait_until(lambda: texts(server, alice.id) == ["left over from before", "hello"], 10)
        store = running.transport.store if running.transport else None
        assert store is not None
        letters = store.dead_letters()
        assert len(letters) == 3 and all("payload does not read" in d.error for d in letters), letters
        assert store.pending() == []
        server.send(alice, "still here")
        server.settle()
        server.wait_until(lambda: texts(server, alice.id)[-1:] == ["got: still here"])
    finally:
        running.close()


# ------------------------------------------------------------------ long polling


def test_polling_keeps_a_minimum_wait_against_a_server_that_ignores_timeout(
    server: BotApiServer, engine: FakeEngine, sqlite_url: str
) -> None:
    server.ignore_poll_timeout = True
    running = start_bot(bot_settings(server, sqlite_url), engine, min_poll_gap=0.25)
    try:
        alice = server.create_user("Alice", "alice")
        server.send(alice, "/start")
        server.settle()
        server.wait_until(lambda: texts(server, alice.id) == ["hello"])
        before = server.get_updates_calls
        time.sleep(1.0)
        polls = server.get_updates_calls - before
        assert 2 <= polls <= 6, f"{polls} getUpdates calls in a second"
        server.send(alice, "quick")  # an update still arrives within a gap
        server.settle(2)
        server.wait_until(lambda: texts(server, alice.id)[-1:] == ["got: quick"], 2)
    finally:
        running.close()
