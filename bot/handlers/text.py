"""The road in: a press to its token, a command to its handler, an answer to its question, text to the parser.

`route(app, c)` is what `Engine.handle` calls for each event inside its unit of work; every handler it
reaches is found in the bus (`bus.commands`, `bus.answers`, `bus.intents`, and `bus.presses` through
`cards.use_token`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot import commands
from bot.actions import AWAITING
from bot.app import App
from bot.context import Ctx
from bot.events import Reply, ReplyKind
from bot.handlers import cards, pin, replies, slots, state
from bot.i18n import t
from bot.models import Action
from intents import parse

DIDNT_GET = "I didn't get that. Try \"send $20 to @anna\", \"show balance\" or /help."


def route(app: App, c: Ctx) -> None:
    """Handle one event's press or text."""
    ev = c.ev
    if ev.press is not None:
        cards.on_press(app, c)
        return
    text = (ev.text or "").strip()
    if not text:
        return
    if not c.private and pin.pin_typed_in_group(app, c, text):
        return
    if not ev.addressed:
        # not for the bot, unless it is a PIN typed in the group by someone we are asking for one
        st = state.get(c)
        if st and not c.private and app.stepup.valid_pin(text):
            on_state(app, c, st, text)
        return
    if ev.edited:
        on_edit(app, c)
        return
    cmd, arg = commands.split(text, app.bus.commands)
    if cmd is not None:  # a command of its own replaces any question the bot was waiting on
        app.bus.commands[cmd](app, c, arg)
        return
    st = state.get(c)
    if st and on_state(app, c, st, text):
        return
    on_text(app, c, text)


def on_text(app: App, c: Ctx, text: str) -> None:
    """Free text: parsed into an intent, which goes to its handler (or a question back when unclear)."""
    if c.private and app.stepup.valid_pin(text):
        replies.delete_typed(c)
        c.say(t(c.lang, "Nothing is waiting for your PIN right now."))
        return
    intent = parse(text, now=c.now, hint_lang=c.lang, directory=app.instruments, reply=c.ev.reply_to is not None)
    if intent.clarify:
        slots.clarify(app, c, intent)
        return
    if intent.intent == "none":
        if c.private or text.startswith("/"):
            c.say(t(c.lang, DIDNT_GET))
        return
    handler = app.bus.intents.get(intent.intent)
    if handler is None:
        c.say(t(c.lang, DIDNT_GET))
        return
    handler(app, c, intent)


def on_state(app: App, c: Ctx, st: dict[str, Any], text: str) -> bool:
    """An answer to something the bot asked (`bus.answers` by the question's kind); False when the text is
    not such an answer."""
    if pin.pin_as_answer(app, c, st, text):
        return True
    if st.get("chat") != c.ev.chat.chat_id:
        if st.get("await") in ("pin", "pin_new", "pin_repeat") and not c.private and app.stepup.valid_pin(text):
            if c.ev.message_id:
                c.replies.append(Reply(ReplyKind.delete, c.ev.chat.chat_id, target_message_id=c.ev.message_id))
            c.say(t(c.lang, "Never type your PIN in a group. Answer in our private chat."))
            return True
        return False
    answer = app.bus.answers.get(str(st.get("await")))
    return answer(app, c, st, text) if answer is not None else False


def on_edit(app: App, c: Ctx) -> None:
    """An edited message voids the card it created: the person confirms what they now wrote."""
    a = c.s.get(Action, cards.action_id(c, c.ev.message_id or ""))
    if a is not None and a.status in AWAITING:
        a.status, a.result = "cancelled", "edited"
        c.say(t(c.lang, "You changed your message, so the earlier card is void. Here is the new one."))
        c.replies.extend(replies.edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Void: the message was changed.")))
        edited = replace(c.ev, event_id=c.ev.event_id + ":edit", message_id=(c.ev.message_id or "") + "e", edited=False)
        on_text(app, Ctx(s=c.s, ev=edited, user=c.user, chat=c.chat, now=c.now, replies=c.replies, after=c.after),
                (c.ev.text or "").strip())
