"""Telegram updates to the engine's events: who, which chat, addressed or not, mentions at Python offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import Chat as TgChat
from telegram import ChatMember, ChatMemberUpdated, Message, MessageEntity, Update
from telegram import User as TgUser

from bot.events import Chat, ChatKind, Event, Mention, Person, Press, ReplyTo

MESSENGER = "telegram"
_AFTER_LEADING_MENTION = re.compile(r"[,:]?\s*")


@dataclass(frozen=True)
class BotIdentity:
    """The bot as getMe reports it: what counts as addressing it in a group."""

    id: int
    username: str

    def is_me(self, handle: str) -> bool:
        """Whether `handle` (without '@') names this bot."""
        return handle.lower() == self.username.lower()


def utf16_to_index(text: str, offset: int) -> int:
    """The Python index of a UTF-16 code-unit offset into `text` (Telegram counts UTF-16 units)."""
    units = 0
    for i, ch in enumerate(text):
        if units >= offset:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


def person(user: TgUser) -> Person:
    """A Telegram user as the engine knows people: stable id, current handle."""
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or None
    return Person(MESSENGER, str(user.id), handle=user.username, name=name,
                  lang=user.language_code, is_bot=user.is_bot)


def chat(tg: TgChat) -> Chat:
    """A Telegram chat: private, or a group (basic groups and supergroups alike)."""
    kind = ChatKind.private if tg.type == TgChat.PRIVATE else ChatKind.group
    title = tg.title if kind is ChatKind.group else None
    return Chat(MESSENGER, str(tg.id), kind, title=title)


def to_event(update: Update, me: BotIdentity, now: datetime | None = None) -> Event | None:
    """The event an update means to the engine, or None when there is nothing for it."""
    if update.callback_query is not None:
        return _press(update, me, now or datetime.now(UTC))
    if update.message is not None:
        return _message(update.message, me)
    if update.edited_message is not None:
        return _message(update.edited_message, me, edited=True)
    changed = update.chat_member or update.my_chat_member
    if changed is not None:
        return _membership(changed)
    return None


IN_GROUP = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER, ChatMember.RESTRICTED})


def _membership(cm: ChatMemberUpdated) -> Event | None:
    """A chat_member (someone else) or my_chat_member (the bot) update: joined, or left / kicked."""
    new = cm.new_chat_member
    who = person(new.user)
    # a restricted member may still be in the group or not (`is_member`)
    inside = new.status in IN_GROUP and (new.status != ChatMember.RESTRICTED or bool(getattr(new, "is_member", True)))
    was_inside = cm.old_chat_member.status in IN_GROUP
    if inside == was_inside:
        return None  # a promotion or a new restriction: still in the group, nothing for the engine
    event_id = f"cm:{cm.chat.id}:{new.user.id}:{int(cm.date.timestamp())}:{new.status}"
    where = chat(cm.chat)
    if inside:
        return Event(event_id=event_id, chat=where, sender=person(cm.from_user), at=cm.date, members=(who,),
                     addressed=False)
    return Event(event_id=event_id, chat=where, sender=person(cm.from_user), at=cm.date, left=(who,), addressed=False)


def _press(update: Update, me: BotIdentity, now: datetime) -> Event | None:
    cq = update.callback_query
    assert cq is not None
    msg = cq.message
    if msg is None or cq.data is None or not isinstance(msg, Message):
        return None
    return Event(
        event_id=f"cb:{cq.id}", chat=chat(msg.chat), sender=person(cq.from_user), at=now,
        message_id=str(msg.message_id),
        press=Press(press_id=cq.id, data=cq.data, message_id=str(msg.message_id)),
    )


def _message(msg: Message, me: BotIdentity, *, edited: bool = False) -> Event | None:
    if msg.from_user is None:
        return None
    members = tuple(person(u) for u in msg.new_chat_members or ())
    left = (person(msg.left_chat_member),) if msg.left_chat_member is not None else ()
    text = msg.text if msg.text is not None else msg.caption
    if left:
        return Event(event_id=f"m:{msg.chat.id}:{msg.message_id}", chat=chat(msg.chat), sender=person(msg.from_user),
                     at=msg.date, message_id=str(msg.message_id), left=left, addressed=False)
    if text is None and not members:
        return None
    where = chat(msg.chat)
    addressed = where.kind is ChatKind.private or bool(members)
    reply_to = None
    if msg.reply_to_message is not None:
        author = msg.reply_to_message.from_user
        reply_to = ReplyTo(str(msg.reply_to_message.message_id),
                           author=person(author) if author else None)
        addressed = addressed or (author is not None and author.id == me.id)
    mentions: tuple[Mention, ...] = ()
    if text is not None:
        ents = msg.entities if msg.text is not None else msg.caption_entities
        text, mentions, to_me, for_other_bot = _read_entities(text, ents or (), me)
        addressed = (addressed or to_me) and not for_other_bot
    event_id = f"m:{msg.chat.id}:{msg.message_id}"
    at = msg.date
    if edited:
        at = msg.edit_date or msg.date
        event_id = f"e:{msg.chat.id}:{msg.message_id}:{int(at.timestamp())}"
    return Event(
        event_id=event_id, chat=where, sender=person(msg.from_user), at=at, text=text,
        message_id=str(msg.message_id), entities=mentions, reply_to=reply_to, members=members,
        addressed=addressed, edited=edited,
    )


def _read_entities(
    text: str, entities: tuple[MessageEntity, ...] | list[MessageEntity], me: BotIdentity
) -> tuple[str, tuple[Mention, ...], bool, bool]:
    """(text without the bot's own address, mentions of others, addressed to the bot, to another bot).

    `/send@thisbot 5` becomes `/send 5` and a leading `@thisbot` is cut; offsets are Python indices
    into the text returned.
    """
    cuts: list[tuple[int, int]] = []
    kept: list[tuple[int, int, str | None, Person | None]] = []
    to_me = for_other_bot = False
    for ent in entities:
        start = utf16_to_index(text, ent.offset)
        end = utf16_to_index(text, ent.offset + ent.length)
        span = text[start:end]
        if ent.type == MessageEntity.BOT_COMMAND and start == 0:
            at = span.find("@")
            if at < 0:
                to_me = True
            elif me.is_me(span[at + 1:]):
                to_me = True
                cuts.append((start + at, end))
            else:
                for_other_bot = True
        elif ent.type == MessageEntity.MENTION:
            handle = span.lstrip("@")
            if me.is_me(handle):
                to_me = True
                if start == 0:
                    tail = _AFTER_LEADING_MENTION.match(text, end)
                    cuts.append((start, tail.end() if tail else end))
            else:
                kept.append((start, end, handle, None))
        elif ent.type == MessageEntity.TEXT_MENTION and ent.user is not None:
            if ent.user.id == me.id:
                to_me = True
            else:
                kept.append((start, end, ent.user.username, person(ent.user)))
    new_text = text
    for s, e in sorted(cuts, reverse=True):
        new_text = new_text[:s] + new_text[e:]

    def shift(i: int) -> int:
        return i - sum(min(e, i) - s for s, e in cuts if s < i)

    mentions = tuple(
        Mention(offset=shift(s), length=shift(e) - shift(s), handle=h, person=p)
        for s, e, h, p in sorted(kept, key=lambda k: k[0])
        if not any(cs < e and s < ce for cs, ce in cuts)
    )
    return new_text, mentions, to_me, for_other_bot
