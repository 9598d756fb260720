"""Private answers: where to give one (the private chat), with a pointer or a link left in a group."""

from __future__ import annotations

from dataclasses import replace

from bot.app import App
from bot.context import Ctx
from bot.directory import display
from bot.events import Button, Chat, ChatKind
from bot.handlers import tokens
from bot.i18n import t


def in_private(app: App, c: Ctx, what: str) -> Ctx | None:
    """Where to give a private answer (balance, history, statement, portfolio): the event's own context in a
    private chat; asked in a group, a context writing to the person's private chat, with a pointer left in
    the group; None when they have no private chat yet (the pointer is then a link that opens one)."""
    if c.private:
        return c
    dm = c.user.private_chat_id
    if dm is None:
        token = tokens.raw_token(app, c.s, f"show:{what}", now=c.now, allowed=c.user.id, lifetime=app.ttl)
        c.say(t(c.lang, "{who}, I answer that only in our private chat. Open it with the button and I will answer there.",
                who=display(c.user)),
              buttons=((Button(t(c.lang, "Open our private chat"), start_payload=token),),))
        return None
    c.say(t(c.lang, "{who}, I sent the answer to our private chat.", who=display(c.user)))
    ev = replace(c.ev, chat=Chat(c.ev.chat.messenger, dm, ChatKind.private), message_id=None, press=None)
    return Ctx(s=c.s, ev=ev, user=c.user, chat=c.chat, now=c.now, replies=c.replies, after=c.after)


