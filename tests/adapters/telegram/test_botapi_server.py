"""The loopback Bot API server speaks the Bot API as python-telegram-bot expects, and plays people faithfully."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

from tests.adapters.telegram.fakes import PNG
from tests.tools.botapi_server import BotApiServer


def with_bot(server: BotApiServer, body: Callable[[Bot], Awaitable[Any]]) -> Any:
    """Run `body` with a real PTB Bot aimed at the server."""
    async def main() -> Any:
        async with Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url) as bot:
            return await body(bot)

    return asyncio.run(main())


def raw(server: BotApiServer, method: str, token: str | None = None, **params: Any) -> tuple[int, dict[str, Any]]:
    """One call with plain urllib, to see the JSON and the status exactly."""
    req = urllib.request.Request(f"{server.base_url}{token or server.token}/{method}",
                                 data=json.dumps(params).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_get_me_has_the_shape_ptb_needs(server: BotApiServer) -> None:
    status, body = raw(server, "getMe")
    assert status == 200 and body["ok"] is True
    me = body["result"]
    assert me["is_bot"] is True and me["username"] == "finbot_test_bot"
    assert me["can_read_all_group_messages"] is False
    user = with_bot(server, lambda bot: bot.get_me())
    assert user.username == "finbot_test_bot" and user.id == 123456789


def test_errors_come_in_telegrams_shape(server: BotApiServer) -> None:
    status, body = raw(server, "getMe", token="999:wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = raw(server, "noSuchMethod")
    assert status == 404 and body["ok"] is False
    server.fail_next("sendMessage", 1, retry_after=7)
    status, body = raw(server, "sendMessage", chat_id=1, text="x")
    assert status == 429
    assert body == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                    "parameters": {"retry_after": 7}}
    with pytest.raises(InvalidToken):
        asyncio.run(Bot("999:wrong", base_url=server.base_url).get_me())


def test_updates_carry_dates_in_seconds_and_are_confirmed_by_offset(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    first = server.send(alice, "one")
    server.send(alice, "two")
    assert abs(first["date"] - time.time()) < 5

    async def body(bot: Bot) -> tuple[Any, ...]:
        a = await bot.get_updates(limit=1)
        b = await bot.get_updates(offset=a[0].update_id + 1)
        c = await bot.get_updates(offset=b[-1].update_id + 1, timeout=0)
        return a, b, c

    a, b, c = with_bot(server, body)
    assert [u.message.text for u in a] == ["one"]
    assert [u.message.text for u in b] == ["two"] and b[0].update_id == a[0].update_id + 1
    assert c == () and server.pending_updates() == 0


def test_long_poll_waits_and_wakes_on_a_new_message(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    threading.Timer(0.3, lambda: server.send(alice, "late")).start()
    t0 = time.monotonic()
    updates = with_bot(server, lambda bot: bot.get_updates(timeout=5))
    waited = time.monotonic() - t0
    assert [u.message.text for u in updates] == ["late"]
    assert 0.25 < waited < 3
    t0 = time.monotonic()
    assert with_bot(server, lambda bot: bot.get_updates(offset=updates[0].update_id + 1, timeout=1)) == ()
    assert time.monotonic() - t0 >= 0.9


def test_allowed_updates_filters_what_is_queued(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    with_bot(server, lambda bot: bot.get_updates(timeout=0, allowed_updates=["callback_query"]))
    server.send(alice, "not wanted")
    assert server.pending_updates() == 0


def test_privacy_mode_shows_the_bot_only_what_is_meant_for_it(server: BotApiServer) -> None:
    alice, bob = server.create_user("Alice", "alice"), server.create_user("Bob")
    group = server.create_group("Trip", alice, [bob])
    card = with_bot(server, lambda bot: bot.send_message(group, "a card"))
    for text in ("chatter", "/send@otherbot 5", "/send@finbot_test_bot 5", "/help",
                 "hey @finbot_test_bot", "@alice hi"):
        server.send(alice, text, group)
    server.reply(bob, {"chat": {"id": group}, "message_id": card.message_id}, "replying to the bot")
    updates = with_bot(server, lambda bot: bot.get_updates())
    seen = [u.message.text for u in updates]
    assert seen == [None, "/send@finbot_test_bot 5", "/help", "hey @finbot_test_bot", "replying to the bot"]
    assert updates[0].message.new_chat_members[-1].username == "finbot_test_bot"


def test_privacy_off_shows_everything() -> None:
    with BotApiServer(privacy=False) as server:
        alice = server.create_user("Alice", "alice")
        group = server.create_group("Trip", alice)
        server.send(alice, "chatter", group)
        updates = with_bot(server, lambda bot: bot.get_updates())
        assert [u.message.text for u in updates] == [None, "chatter"]
        assert with_bot(server, lambda bot: bot.get_me()).can_read_all_group_messages is True


def test_entities_count_utf16_units_and_name_people_without_usernames(server: BotApiServer) -> None:
    alice, bob = server.create_user("Alice", "alice"), server.create_user("Bøb", None)
    msg = server.send(alice, "/send@finbot_test_bot 💶20 to Bøb and @anna_k", text_mentions={"Bøb": bob})
    ents = {e["type"]: e for e in msg["entities"]}
    assert ents["bot_command"] == {"type": "bot_command", "offset": 0, "length": 21}
    # '💶' is two UTF-16 units: 'Bøb' starts at Python index 29 but UTF-16 offset 30
    assert ents["text_mention"]["offset"] == 30 and ents["text_mention"]["length"] == 3
    assert ents["text_mention"]["user"]["id"] == bob.id and "username" not in ents["text_mention"]["user"]
    assert ents["mention"]["offset"] == 38 and ents["mention"]["length"] == 7
    update = with_bot(server, lambda bot: bot.get_updates())[0]
    parsed = update.message.parse_entities()
    assert sorted(parsed.values()) == sorted(["/send@finbot_test_bot", "Bøb", "@anna_k"])


def test_keyboards_presses_and_answers(server: BotApiServer) -> None:
    alice, bob = server.create_user("Alice", "alice"), server.create_user("Bob", "bob")
    group = server.create_group("Trip", alice, [bob])
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Confirm", callback_data="tok-1")]])

    async def body(bot: Bot) -> Any:
        sent = await bot.send_message(group, "Split 60?", reply_markup=markup)
        await bot.get_updates()  # confirm the group service message later
        return sent

    sent = with_bot(server, body)
    qid = server.press(bob, server.message(group, sent.message_id), "Confirm")

    async def answer(bot: Bot) -> Any:
        updates = await bot.get_updates()
        cq = updates[-1].callback_query
        await bot.answer_callback_query(cq.id, "Only Alice can confirm", show_alert=True)
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await bot.answer_callback_query(cq.id, "again")
        return cq

    cq = with_bot(server, answer)
    assert cq.id == qid and cq.data == "tok-1" and cq.from_user.id == bob.id
    assert cq.chat_instance and cq.message.message_id == sent.message_id
    assert [(a.user_id, a.text, a.show_alert) for a in server.answers()] == [
        (bob.id, "Only Alice can confirm", True)]


def test_deep_link_buttons_land_in_the_private_chat(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    group = server.create_group("Trip", alice)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(
        "Confirm in private", url="https://t.me/finbot_test_bot?start=su_abc-1")]])
    sent = with_bot(server, lambda bot: bot.send_message(group, "step up", reply_markup=markup))
    posted = server.press(alice, server.message(group, sent.message_id), "Confirm in private")
    assert isinstance(posted, dict)
    assert posted["text"] == "/start su_abc-1" and posted["chat"]["id"] == alice.id
    assert posted["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    with pytest.raises(ValueError):
        server.follow_link(alice, "https://t.me/otherbot?start=x")


def test_edits_deletions_and_their_errors(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    typed = server.send(alice, "1234")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Confirm", callback_data="t")]])

    async def body(bot: Bot) -> Any:
        sent = await bot.send_message(alice.id, "card", reply_markup=markup)
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("card", alice.id, sent.message_id, reply_markup=markup)
        await bot.edit_message_text("card, done", alice.id, sent.message_id)
        with pytest.raises(BadRequest, match="can't be edited"):
            await bot.edit_message_text("x", alice.id, typed["message_id"])
        await bot.delete_message(alice.id, typed["message_id"])
        with pytest.raises(BadRequest, match="not found"):
            await bot.delete_message(alice.id, typed["message_id"])
        with pytest.raises(BadRequest, match="not found"):
            await bot.edit_message_reply_markup(alice.id, 999, reply_markup=markup)
        return sent

    sent = with_bot(server, body)
    card = server.message(alice.id, sent.message_id)
    assert card.text == "card, done" and card.buttons == [] and card.history == ["card"]
    assert server.message(alice.id, typed["message_id"]).deleted
    assert [m.text for m in server.messages(alice.id)] == ["card, done"]


def test_uploads_arrive_as_bytes(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")

    async def body(bot: Bot) -> Any:
        photo = await bot.send_photo(alice.id, PNG, caption="QR", filename="qr.png")
        doc = await bot.send_document(alice.id, b"a,b\n1,2\n", filename="s.csv")
        return photo, doc

    photo, doc = with_bot(server, body)
    assert (photo.photo[-1].width, photo.photo[-1].height) == (16, 8) and photo.caption == "QR"
    seen = server.inbox(alice)
    assert seen[0].photo is not None and seen[0].photo.content == PNG
    assert seen[1].document is not None and seen[1].document.content == b"a,b\n1,2\n"
    assert doc.document.file_name == "s.csv" and doc.document.mime_type == "text/csv"
    with urllib.request.urlopen(f"{server.base_file_url}{server.token}/{doc.document.file_id}") as resp:
        assert resp.read() == b"a,b\n1,2\n"


def test_the_bot_cannot_write_first_and_sees_membership(server: BotApiServer) -> None:
    alice, bob, carol = (server.create_user(n, n.lower()) for n in ("Alice", "Bob", "Carol"))
    group = server.create_group("Trip", alice, [bob])

    async def body(bot: Bot) -> Any:
        with pytest.raises(Forbidden, match="initiate conversation"):
            await bot.send_message(bob.id, "hi")
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(-42, "hi")
        return [await bot.get_chat_member(group, u.id) for u in (alice, bob, carol)]

    members = with_bot(server, body)
    assert [m.status for m in members] == ["creator", "member", "left"]


def test_command_menus_are_kept_per_language(server: BotApiServer) -> None:
    async def body(bot: Bot) -> Any:
        await bot.set_my_commands([("send", "Send money")])
        await bot.set_my_commands([("send", "Send penger")], language_code="nb")
        with pytest.raises(BadRequest):
            await bot.set_my_commands([("Bad-Name", "x")])
        return await bot.get_my_commands(language_code="nb"), await bot.get_my_commands()

    nb, default = with_bot(server, body)
    assert [c.description for c in nb] == ["Send penger"]
    assert [c.description for c in default] == ["Send money"]
    assert server.commands("fr") == []


def test_fault_injection_gives_ptb_retry_after(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")
    server.fail_next("sendMessage", 2, retry_after=3)

    async def body(bot: Bot) -> Any:
        errors = []
        for _ in range(3):
            try:
                await bot.send_message(alice.id, "hi")
            except RetryAfter as exc:
                errors.append(exc)
        return errors

    errors = with_bot(server, body)
    assert len(errors) == 2 and "Retry in 3" in str(errors[0])
    assert [m.text for m in server.inbox(alice)] == ["hi"]


def test_enforced_limits_answer_429(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    group = server.create_group("Trip", alice)
    server.enforce_limits(group_per_minute=3)

    async def body(bot: Bot) -> int:
        for _ in range(3):
            await bot.send_message(group, "x")
        with pytest.raises(RetryAfter):
            await bot.send_message(group, "x")
        return len(server.messages(group, from_bot=True))

    assert with_bot(server, body) == 3


class _Hook(BaseHTTPRequestHandler):
    """A webhook receiver that records bodies and secrets, failing the first request."""

    got: list[tuple[str | None, dict[str, Any]]] = []
    fail_first = True

    def log_message(self, *args: Any) -> None:
        return

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        if cls.fail_first:
            cls.fail_first = False
            self.send_response(500)
        else:
            cls.got.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"), body))
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_webhook_delivery_carries_the_secret_and_retries(server: BotApiServer) -> None:
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{hook.server_address[1]}/hook"

        async def setup(bot: Bot) -> Any:
            await bot.set_webhook(url, secret_token="s3cret")
            with pytest.raises(Conflict):
                await bot.get_updates()
            return await bot.get_webhook_info()

        info = with_bot(server, setup)
        assert info.url == url
        alice = server.create_user("Alice", "alice")
        server.send(alice, "hello")
        server.settle(5)
        assert [(s, b["message"]["text"]) for s, b in _Hook.got] == [("s3cret", "hello")]
        assert "500" in (server.webhook_info().get("last_error_message") or "")
        with_bot(server, lambda bot: bot.delete_webhook())
        server.send(alice, "polled")
        assert [u.message.text for u in with_bot(server, lambda bot: bot.get_updates())] == ["polled"]
    finally:
        hook.shutdown()
        hook.server_close()
