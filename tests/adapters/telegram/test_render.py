"""Replies become Bot API calls that people see as intended: keyboards, deep links, files, edits, answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from telegram import Bot

from adapters.telegram.render import UnrenderableReply, deep_link, render, split_text, utf16_len
from bot.events import Attachment, Button, Reply, ReplyKind
from tests.adapters.telegram.fakes import PNG
from tests.tools.botapi_server import BotApiServer

BOT = "finbot_test_bot"


def with_bot(server: BotApiServer, body: Callable[[Bot], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url) as bot:
            return await body(bot)

    return asyncio.run(main())


def say(server: BotApiServer, *replies: Reply) -> list[str | None]:
    async def body(bot: Bot) -> list[str | None]:
        return [await render(bot, r, BOT) for r in replies]

    return with_bot(server, body)


def test_buttons_carry_opaque_tokens_and_deep_links(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")
    buttons = ((Button("Confirm", data="c:9f2e"), Button("Cancel", data="x:9f2e")),
               (Button("Confirm in private", start_payload="su_123"), Button("Docs", url="https://example.org")))
    [mid] = say(server, Reply(ReplyKind.message, str(alice.id), "Send 20 USD to @bob?", buttons=buttons))
    card = server.message(alice.id, int(mid or 0))
    assert card.text == "Send 20 USD to @bob?"
    assert card.buttons == [
        [{"text": "Confirm", "callback_data": "c:9f2e"}, {"text": "Cancel", "callback_data": "x:9f2e"}],
        [{"text": "Confirm in private", "url": "https://t.me/finbot_test_bot?start=su_123"},
         {"text": "Docs", "url": "https://example.org"}]]
    assert deep_link(BOT, "p") == "https://t.me/finbot_test_bot?start=p"


def test_a_web_app_button_opens_the_page_as_a_mini_app(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")
    page = "https://finbot.example.com/passkey/tok"
    buttons = ((Button("Confirm with passkey", web_app=page),),
               (Button("Open", web_app="http://localhost:8443/passkey/tok"),))  # http: Telegram takes only a link
    [mid] = say(server, Reply(ReplyKind.message, str(alice.id), "To confirm", buttons=buttons))
    assert server.message(alice.id, int(mid or 0)).buttons == [
        [{"text": "Confirm with passkey", "web_app": {"url": page}}],
        [{"text": "Open", "url": "http://localhost:8443/passkey/tok"}]]


def test_callback_data_over_64_bytes_is_refused_before_sending(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")
    with pytest.raises(UnrenderableReply):
        say(server, Reply(ReplyKind.message, str(alice.id), "x", buttons=((Button("b", data="é" * 33),),)))
    assert server.inbox(alice) == []


def test_photo_and_document_are_uploaded_with_caption_and_buttons(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")
    kb = ((Button("Done", data="d"),),)
    say(server,
        Reply(ReplyKind.message, str(alice.id), "Scan to pay", photo=Attachment("qr.png", PNG, "image/png"),
              buttons=kb),
        Reply(ReplyKind.message, str(alice.id), "", document=Attachment("st.csv", b"a,b\n", "text/csv")))
    photo, doc = server.inbox(alice)
    assert photo.photo is not None and photo.photo.content == PNG and photo.text == "Scan to pay"
    assert photo.labels() == ["Done"]
    assert doc.document is not None and doc.document.content == b"a,b\n" and doc.document.filename == "st.csv"


def test_long_caption_goes_in_its_own_message_with_the_buttons(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")
    text = "x" * 1500
    [mid] = say(server, Reply(ReplyKind.message, str(alice.id), text, photo=Attachment("c.png", PNG, "image/png"),
                              buttons=((Button("Ok", data="o"),),)))
    photo, words = server.inbox(alice)
    assert photo.photo is not None and photo.text == "" and photo.buttons == []
    assert words.text == text and words.labels() == ["Ok"] and mid == str(words.message_id)


def test_long_text_is_split_and_the_ref_is_the_message_with_buttons(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")
    text = "\n".join(f"line {i} 💶" for i in range(900))
    [mid] = say(server, Reply(ReplyKind.message, str(alice.id), text, buttons=((Button("More", data="m"),),)))
    parts = server.inbox(alice)
    assert len(parts) >= 3 and "".join(p.text for p in parts) == text
    assert all(utf16_len(p.text) <= 4096 for p in parts)
    assert parts[-1].labels() == ["More"] and mid == str(parts[-1].message_id)
    assert split_text("") == [""]


def test_edit_replaces_text_and_keyboard_and_tolerates_no_change(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")
    [mid] = say(server, Reply(ReplyKind.message, str(alice.id), "card", buttons=((Button("Go", data="g"),),)))
    done = Reply(ReplyKind.edit, str(alice.id), "card: done", target_message_id=mid)
    say(server, done, done)
    card = server.message(alice.id, int(mid or 0))
    assert card.text == "card: done" and card.buttons == [] and card.history == ["card"]
    say(server, Reply(ReplyKind.edit, str(alice.id), "", buttons=((Button("Undo", data="u"),),),
                      target_message_id=mid))
    assert server.message(alice.id, int(mid or 0)).labels() == ["Undo"]


def test_edit_of_a_photo_card_changes_its_caption(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    server.send(alice, "/start")
    [mid] = say(server, Reply(ReplyKind.message, str(alice.id), "QR", photo=Attachment("q.png", PNG, "image/png")))
    say(server, Reply(ReplyKind.edit, str(alice.id), "QR (paid)", target_message_id=mid))
    assert server.message(alice.id, int(mid or 0)).text == "QR (paid)"


def test_delete_removes_a_typed_pin_once(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    typed = server.send(alice, "4321")
    delete = Reply(ReplyKind.delete, str(alice.id), target_message_id=str(typed["message_id"]))
    say(server, delete, delete)
    assert server.message(alice.id, typed["message_id"]).deleted


def test_press_answers_are_alerts_when_asked(server: BotApiServer) -> None:
    alice, bob = server.create_user("Alice", "alice"), server.create_user("Bob", "bob")
    group = server.create_group("Trip", alice, [bob])
    [mid] = say(server, Reply(ReplyKind.message, str(group), "card", buttons=((Button("Go", data="g"),),)))
    qid = server.press(bob, server.message(group, int(mid or 0)), "Go")
    assert isinstance(qid, str)
    say(server, Reply(ReplyKind.answer_press, str(group), "Only Alice can confirm this. " * 20,
                      press_id=qid, alert=True))
    [answer] = server.answers(bob)
    assert answer.show_alert and answer.text.startswith("Only Alice") and len(answer.text) == 200
