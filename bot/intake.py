"""The engine's event intake: what no database column can hold never gets past it (NUL bytes)."""

from __future__ import annotations

from dataclasses import replace
from typing import overload

from bot.events import Chat, Event, Mention, Person, Press, ReplyTo

NUL = "\x00"


@overload
def _s(value: str) -> str: ...
@overload
def _s(value: str | None) -> str | None: ...
def _s(value: str | None) -> str | None:
    return value.replace(NUL, "") if isinstance(value, str) else value


def _person(p: Person | None) -> Person | None:
    if p is None:
        return None
    return replace(p, user_id=_s(p.user_id), handle=_s(p.handle), name=_s(p.name), lang=_s(p.lang))


def has_nul_text(ev: Event) -> bool:
    """True when the message text carries a NUL byte: such a message is refused, not guessed at."""
    return ev.text is not None and NUL in ev.text


def clean(ev: Event) -> Event:
    """The event with NUL bytes taken out of every identifier and name; text with a NUL becomes None
    (the engine answers it with a refusal, see `has_nul_text`). PostgreSQL's text columns refuse NUL."""
    chat = Chat(ev.chat.messenger, _s(ev.chat.chat_id), ev.chat.kind, _s(ev.chat.title))
    sender = _person(ev.sender)
    assert sender is not None
    entities = tuple(Mention(m.offset, m.length, _s(m.handle), _person(m.person)) for m in ev.entities)
    reply_to = None if ev.reply_to is None else ReplyTo(_s(ev.reply_to.message_id), _person(ev.reply_to.author))
    press = None if ev.press is None else Press(_s(ev.press.press_id), _s(ev.press.data), _s(ev.press.message_id))
    members = tuple(p for p in (_person(m) for m in ev.members) if p is not None)
    return replace(ev, event_id=_s(ev.event_id), chat=chat, sender=sender, text=None if has_nul_text(ev) else ev.text,
                   message_id=_s(ev.message_id), entities=entities, reply_to=reply_to, press=press, members=members)
