"""The real transport over HTTP against the loopback server, polling and webhook, with an engine double."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from adapters.telegram.app import run
from adapters.telegram.flood import FloodLimits
from adapters.telegram.store import TelegramStore
from bot.events import Reply, ReplyKind
from tests.adapters.telegram.fakes import PNG, FakeEngine
from tests.adapters.telegram.harness import SECRET, BotThread, bot_settings, spawn_bot, start_bot
from tests.tools.botapi_server import BotApiServer


@pytest.fixture(params=["polling", "webhook"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def bot(server: BotApiServer, engine: FakeEngine, mode: str, sqlite_url: str) -> Iterator[BotThread]:
    running = start_bot(bot_settings(server, sqlite_url, webhook=mode == "webhook"), engine,
                        tick_seconds=0.2)
    yield running
    running.close()


def texts(server: BotApiServer, chat_id: int) -> list[str]:
    return [m.text for m in server.messages(chat_id, from_bot=True)]


def test_private_conversation_with_cards_files_and_a_deleted_pin(
    server: BotApiServer, bot: BotThread, engine: FakeEngine, mode: str
) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")
    server.send(alice, "card")
    server.settle()
    assert texts(server, alice.id) == ["hello", "Send 10 USD? (card 1)"]
    card = server.inbox(alice)[-1]
    assert engine.sent["card-1"] == (str(alice.id), str(card.message_id))
    server.press(alice, card, "Confirm")
    server.settle()
    card = server.message(alice.id, card.message_id)
    assert card.text == "Done: 10 USD" and card.buttons == []
    assert [(a.text, a.show_alert) for a in server.answers(alice)] == [("Done", False)]
    typed = server.send(alice, "pin 2468")
    server.send(alice, "photo")
    server.send(alice, "doc")
    server.settle()
    assert server.message(alice.id, typed["message_id"]).deleted
    *_, saved, qr, statement = server.inbox(alice)
    assert saved.text == "PIN saved"
    assert qr.photo is not None and qr.photo.content == PNG and qr.text == "your QR"
    assert statement.document is not None and statement.document.content.startswith(b"date,amount")
    assert [e.event_id for e in engine.events] == sorted({e.event_id for e in engine.events},
                                                         key=[e.event_id for e in engine.events].index)


def test_command_menus_in_three_languages(server: BotApiServer, bot: BotThread) -> None:
    assert [c["description"] for c in server.commands("nb")] == ["start [nb]", "send money [nb]", "balance [nb]"]
    assert server.commands("fr")[0]["description"] == "start [fr]"
    assert server.commands("en") == server.commands("")


def test_group_card_refuses_another_member_and_steps_up_in_private(
    server: BotApiServer, bot: BotThread, engine: FakeEngine
) -> None:
    alice, bob = server.create_user("Alice", "alice"), server.create_user("Bob")
    group = server.create_group("Trip", alice, [bob])
    server.send(alice, "chatter nobody addresses to the bot", group)
    server.send(alice, "@finbot_test_bot card", group)
    server.settle()
    welcome, card = server.messages(group, from_bot=True)
    assert welcome.text == "welcome Bob, finbot_test_bot"
    server.press(bob, card, "Confirm")
    server.settle()
    assert [(a.user_id, a.show_alert) for a in server.answers()] == [(bob.id, True)]
    assert "Only the person" in server.answers(bob)[0].text
    assert server.message(group, card.message_id).labels() == ["Confirm", "Cancel"]
    assert [e.text for e in engine.events if e.text] == ["card"]
    server.send(alice, "@finbot_test_bot link", group)
    server.settle()
    link = server.messages(group, from_bot=True)[-1]
    posted = server.press(alice, link, "Open")
    assert isinstance(posted, dict) and posted["chat"]["id"] == alice.id
    server.settle()
    assert texts(server, alice.id) == [f"hello su-{alice.id}"]
    server.press(alice, card, "Confirm")
    server.settle()
    assert server.message(group, card.message_id).text == "Done: 10 USD"


def test_mentions_and_replies_reach_the_engine_with_python_offsets(
    server: BotApiServer, bot: BotThread, engine: FakeEngine
) -> None:
    alice, bob = server.create_user("Alice", "alice"), server.create_user("Bøb")
    group = server.create_group("Trip", alice, [bob])
    server.settle()
    server.send(alice, "/echo@finbot_test_bot 💶 to Bøb and @carol_c", group, text_mentions={"Bøb": bob})
    server.settle()
    assert texts(server, group)[-1] == f"/echo 💶 to Bøb and @carol_c | Bøb=/{bob.id} @carol_c=carol_c/"
    reply_target = server.messages(group, from_bot=True)[-1]
    server.reply(bob, reply_target, "echo back")
    server.settle()
    assert texts(server, group)[-1] == "echo back |  reply-to=123456789"


def test_a_replayed_update_is_handled_once(server: BotApiServer, bot: BotThread, engine: FakeEngine) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "card")
    server.settle()
    card = server.inbox(alice)[-1]
    server.press(alice, card, "Confirm")
    server.settle()
    before = server.update_count()
    for update in server.history():
        server.replay(update["update_id"])
    server.settle()
    assert server.update_count() == before
    assert engine.calls == len(engine.events) == 2, "the transport itself skips handled updates"
    assert len(server.answers(alice)) == 1 and all(c.ok for c in server.calls)
    assert texts(server, alice.id) == ["Done: 10 USD"]
    assert server.message(alice.id, card.message_id).history == ["Send 10 USD? (card 1)"]


def test_restart_in_the_middle_of_a_conversation(
    server: BotApiServer, engine: FakeEngine, mode: str, sqlite_url: str
) -> None:
    settings = bot_settings(server, sqlite_url, webhook=mode == "webhook")
    first = start_bot(settings, engine)
    alice = server.create_user("Alice", "alice")
    server.send(alice, "card")
    server.settle()
    first.close()
    card = server.inbox(alice)[-1]
    server.press(alice, card, "Confirm")  # pressed while the bot is down
    server.send(alice, "after")
    time.sleep(0.3)
    assert server.pending_updates() == 2
    second = start_bot(settings, engine)
    try:
        server.settle()
        assert server.message(alice.id, card.message_id).text == "Done: 10 USD"
        assert texts(server, alice.id) == ["Done: 10 USD", "got: after"]
        assert [e.text or e.press.data for e in engine.events if e.press or e.text] == ["card", "ok1", "after"]
        store = TelegramStore(sqlite_url)
        assert store.pending() == [] and store.counts() == {"sent": 4}
        if mode == "polling":
            assert store.offset() == server.history()[-1]["update_id"] + 1
    finally:
        second.close()


@pytest.mark.parametrize("mode", ["polling"])  # the sleeps dominate; webhook mode has its storm with the engine
def test_a_storm_of_429s_delays_but_loses_nothing(server: BotApiServer, bot: BotThread, engine: FakeEngine) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "card")
    server.settle()
    card = server.inbox(alice)[-1]
    server.fail_next("sendMessage", 3, retry_after=1)
    server.fail_next("editMessageText", 1, retry_after=1)
    server.fail_next("answerCallbackQuery", 1, retry_after=1)
    t0 = time.monotonic()
    server.send(alice, "burst 3")
    server.press(alice, card, "Confirm")
    server.settle(30)
    elapsed = time.monotonic() - t0
    assert texts(server, alice.id) == ["Done: 10 USD", "burst 0", "burst 1", "burst 2"]
    assert [a.text for a in server.answers(alice)] == ["Done"]
    refused = [c for c in server.calls if not c.ok]
    assert len(refused) == 5 and elapsed >= 5.0
    assert len(engine.events) == 3


def test_flood_limits_pace_a_group(server: BotApiServer, engine: FakeEngine, sqlite_url: str) -> None:
    alice = server.create_user("Alice", "alice")
    group = server.create_group("Trip", alice)
    limits = FloodLimits(group_per_minute=240, group_burst=2)   # 4 a second after a burst of 2
    running = start_bot(bot_settings(server, sqlite_url), engine, limits=limits)
    try:
        server.send(alice, "@finbot_test_bot burst 7", group)
        server.settle(20)
        stamps = [c.at for c in server.calls_of("sendMessage") if c.params["chat_id"] == group]
        assert len(stamps) == 8  # the welcome and seven more
        assert stamps[-1] - stamps[1] >= 5 * 0.25 - 0.05
        assert texts(server, group)[1:] == [f"burst {i}" for i in range(7)]
    finally:
        running.close()


def test_a_refused_reply_does_not_block_the_rest(server: BotApiServer, bot: BotThread) -> None:
    alice, bob = server.create_user("Alice", "alice"), server.create_user("Bob", "bob")
    server.send(alice, f"tell {bob.id}")  # Bob never started the bot: 403
    server.send(alice, "next")
    server.settle()
    assert texts(server, alice.id) == ["told", "got: next"] and texts(server, bob.id) == []


def test_replies_follow_a_group_upgraded_to_a_supergroup(server: BotApiServer, bot: BotThread) -> None:
    alice = server.create_user("Alice", "alice")
    group = server.create_group("Trip", alice)
    server.settle()
    bigger = server.upgrade_group(group)
    server.send(alice, f"tell {group}")
    server.settle()
    assert texts(server, bigger) == ["psst"] and texts(server, alice.id) == ["told"]


def test_tick_sends_due_replies(server: BotApiServer, bot: BotThread, engine: FakeEngine) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")
    server.settle()
    engine.due.append(Reply(ReplyKind.message, str(alice.id), "your weekly statement is ready"))
    server.wait_until(lambda: "your weekly statement is ready" in texts(server, alice.id), 5)


def test_webhook_refuses_requests_without_the_secret(server: BotApiServer, engine: FakeEngine, sqlite_url: str) -> None:
    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse("finbot page")

    settings = bot_settings(server, sqlite_url, webhook=True)
    handle = BotThread(settings, engine)
    ready = threading.Event()

    def target() -> None:
        run(settings, engine, stop=handle.stop, poll_timeout=5, routes=[Route("/page", page)],
                    on_ready=lambda t: ready.set())

    handle.thread = threading.Thread(target=target, daemon=True)
    handle.thread.start()
    assert ready.wait(20)
    try:
        base = f"http://127.0.0.1:{settings.webhook_port}"
        update = json.dumps({"update_id": 1, "message": {
            "message_id": 1, "date": 0, "chat": {"id": 5, "type": "private", "first_name": "M"},
            "from": {"id": 5, "is_bot": False, "first_name": "M"}, "text": "forged"}}).encode()
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            req = urllib.request.Request(f"{base}/tg/hook", data=update, headers=headers, method="POST")
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req, timeout=5)
            assert err.value.code == 403
        assert engine.events == []
        req = urllib.request.Request(f"{base}/tg/hook", data=update, method="POST",
                                     headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 200
        assert [e.text for e in engine.events] == ["forged"]
        with urllib.request.urlopen(f"{base}/page", timeout=5) as resp:
            assert resp.read() == b"finbot page"
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as resp:
            assert json.loads(resp.read())["handled"] == 1
        assert server.webhook_info()["url"] == settings.webhook_url
        assert server.calls_of("setWebhook")[-1].params["secret_token"] == SECRET
    finally:
        handle.close()


def test_crash_inside_the_engine_loses_nothing(server: BotApiServer, sqlite_url: str, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    env = {"FINBOT_TEST_JOURNAL": str(journal), "FINBOT_TEST_CRASH_ON": "boom"}
    alice = server.create_user("Alice", "alice")
    proc = spawn_bot(server, sqlite_url, tmp_path / "bot.log", env=env)
    proc.wait_ready(server)
    server.send(alice, "one")
    server.settle()
    server.send(alice, "boom")  # the engine handles it, then the process dies before it is recorded
    server.send(alice, "two")
    assert proc.proc.wait(20) == 17
    proc = spawn_bot(server, sqlite_url, tmp_path / "bot.log", env={**env, "FINBOT_TEST_CRASH_ON": ""})
    try:
        proc.wait_ready(server)
        server.settle(20)
        server.wait_until(lambda: len(texts(server, alice.id)) >= 2, 10)
        ids = [json.loads(line)["text"] for line in journal.read_text().splitlines()]
        assert ids == ["one", "boom", "two"]  # each handled once by the engine
        seen = texts(server, alice.id)
        assert seen[0] == "got: one" and seen[-1] == "got: two" and seen.count("got: boom") <= 1
    finally:
        assert proc.terminate() == 0


def test_crash_while_sending_resends_nothing_twice(server: BotApiServer, sqlite_url: str, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    alice = server.create_user("Alice", "alice")
    proc = spawn_bot(server, sqlite_url, tmp_path / "bot.log",
                     env={"FINBOT_TEST_JOURNAL": str(journal), "FINBOT_TEST_CRASH_SENT": "1"})
    proc.wait_ready(server)
    server.send(alice, "card")  # the card is sent, then the process dies reporting it
    server.send(alice, "burst 2")
    assert proc.proc.wait(20) == 18
    proc = spawn_bot(server, sqlite_url, tmp_path / "bot.log", env={"FINBOT_TEST_JOURNAL": str(journal)})
    try:
        proc.wait_ready(server)
        server.settle(20)
        server.wait_until(lambda: len(texts(server, alice.id)) >= 3, 10)
        assert texts(server, alice.id) == ["Send 10 USD? (card 1)", "burst 0", "burst 1"]
        assert [json.loads(line)["text"] for line in journal.read_text().splitlines()] == ["card", "burst 2"]
    finally:
        assert proc.terminate() == 0
