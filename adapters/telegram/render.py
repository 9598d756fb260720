"""Replies to Bot API calls: messages with inline keyboards and deep links, uploads, edits, deletions, press answers."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, WebAppInfo
from telegram.error import BadRequest

from bot.events import Button, Reply, ReplyKind

log = logging.getLogger("finbot.telegram")

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
ANSWER_LIMIT = 200
CALLBACK_DATA_LIMIT = 64


class UnrenderableReply(ValueError):
    """A reply Telegram cannot carry (callback data over 64 bytes, a button with nothing to do)."""


def deep_link(bot_username: str, payload: str) -> str:
    """The link that opens the private chat with `/start <payload>`."""
    return f"https://t.me/{bot_username}?start={payload}"


def _button(b: Button, bot_username: str) -> InlineKeyboardButton:
    if b.data is not None:
        if not 1 <= len(b.data.encode()) <= CALLBACK_DATA_LIMIT:
            raise UnrenderableReply(f"callback data must be 1-64 bytes: {b.data!r}")
        return InlineKeyboardButton(b.label, callback_data=b.data)
    if b.start_payload is not None:
        return InlineKeyboardButton(b.label, url=deep_link(bot_username, b.start_payload))
    if b.web_app is not None:
        if b.web_app.startswith("https://"):  # Telegram opens only https pages as Mini Apps
            return InlineKeyboardButton(b.label, web_app=WebAppInfo(url=b.web_app))
        return InlineKeyboardButton(b.label, url=b.web_app)
    if b.url is not None:
        return InlineKeyboardButton(b.label, url=b.url)
    raise UnrenderableReply(f"button {b.label!r} has no data, deep link, url or web app")


def keyboard(rows: tuple[tuple[Button, ...], ...], bot_username: str) -> InlineKeyboardMarkup | None:
    """The inline keyboard for a reply's button rows (None when there are none)."""
    built = [[_button(b, bot_username) for b in row] for row in rows if row]
    return InlineKeyboardMarkup(built) if built else None


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, Telegram's measure of text limits."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut text into messages Telegram accepts, at line breaks when it can."""
    chunks: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = limit
        while utf16_len(rest[:cut]) > limit:
            cut -= 1
        nl = rest.rfind("\n", 0, cut)
        cut = nl + 1 if nl > cut // 2 else cut
        chunks.append(rest[:cut])
        rest = rest[cut:]
    if rest or not chunks:
        chunks.append(rest)
    return chunks


async def render(bot: Bot, reply: Reply, bot_username: str) -> str | None:
    """Carry out one reply; for a message, the id of the message holding its text and buttons."""
    chat_id = int(reply.chat_id)
    markup = keyboard(reply.buttons, bot_username)
    if reply.kind is ReplyKind.message:
        return await _send(bot, chat_id, reply, markup)
    if reply.kind is ReplyKind.edit:
        await _edit(bot, chat_id, _target(reply), reply.text, markup)
        return reply.target_message_id
    if reply.kind is ReplyKind.delete:
        try:
            await bot.delete_message(chat_id, _target(reply))
        except BadRequest as exc:
            if "not found" not in exc.message.lower():
                raise
            log.info("message %s in %s already gone", reply.target_message_id, chat_id)
        return None
    if reply.kind is ReplyKind.answer_press:
        if not reply.press_id:
            raise UnrenderableReply("answer_press without press_id")
        text = reply.text[:ANSWER_LIMIT] or None
        await bot.answer_callback_query(reply.press_id, text=text, show_alert=reply.alert)
        return None
    raise UnrenderableReply(f"unknown reply kind {reply.kind!r}")


def _target(reply: Reply) -> int:
    if not reply.target_message_id:
        raise UnrenderableReply(f"{reply.kind} without target_message_id")
    return int(reply.target_message_id)


async def _send(bot: Bot, chat_id: int, reply: Reply, markup: InlineKeyboardMarkup | None) -> str:
    media = reply.photo or reply.document
    text = reply.text
    if media is not None:
        caption = text if utf16_len(text) <= CAPTION_LIMIT else None
        kb = markup if caption is not None or not text else None
        if reply.photo is not None:
            sent: Message = await bot.send_photo(chat_id, reply.photo.content, caption=caption,
                                                 reply_markup=kb, filename=reply.photo.filename)
        else:
            assert reply.document is not None
            sent = await bot.send_document(chat_id, reply.document.content, caption=caption,
                                           reply_markup=kb, filename=reply.document.filename)
        if caption is not None or not text:
            return str(sent.message_id)
    chunks = split_text(text)
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        sent = await bot.send_message(chat_id, chunk, reply_markup=markup if last else None)
    return str(sent.message_id)


async def _edit(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    try:
        if not text:
            await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=markup)
            return
        try:
            await bot.edit_message_text(split_text(text)[0], chat_id, message_id, reply_markup=markup)
        except BadRequest as exc:
            if "no text in the message" not in exc.message.lower():
                raise
            await bot.edit_message_caption(chat_id, message_id, caption=text[:CAPTION_LIMIT],
                                           reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
