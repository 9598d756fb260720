"""Replies out: edit a message the engine sent earlier, or send it; delete what a person typed."""

from __future__ import annotations

from sqlmodel import Session

from bot.actions import money_text
from bot.context import Ctx
from bot.events import Button, Reply, ReplyKind
from bot.i18n import t
from bot.models import SentMessage


def sent(s: Session, ref: str) -> SentMessage | None:
    """The messenger's id of the message the engine named `ref` (e.g. "card:<action id>"), once it was sent."""
    return s.get(SentMessage, ref)


def edit_known(known: tuple[str, str] | None, ref: str, chat_id: str | None, text: str,
               buttons: tuple[tuple[Button, ...], ...] = ()) -> list[Reply]:
    """Edit the message `ref` names when it was sent (`known`: its chat and message id), else send it to `chat_id`."""
    if known is not None:
        return [Reply(ReplyKind.edit, known[0], text, buttons, target_message_id=known[1], ref=ref)]
    if chat_id is None:
        return []
    return [Reply(ReplyKind.message, chat_id, text, buttons, ref=ref)]


def edit_or_send(s: Session, ref: str, chat_id: str | None, text: str,
                 buttons: tuple[tuple[Button, ...], ...] = ()) -> list[Reply]:
    """Edit the message named `ref` when it was sent, else send a new one to `chat_id` (none when None)."""
    row = sent(s, ref)
    return edit_known(None if row is None else (row.chat_id, row.message_id), ref, chat_id, text, buttons)


def delete_typed(c: Ctx) -> None:
    """Delete the message this event is (a PIN or a code typed into the chat)."""
    if c.ev.message_id:
        c.replies.append(Reply(ReplyKind.delete, c.ev.chat.chat_id, target_message_id=c.ev.message_id))


def sent_you(who: str, lang: str, amount: int, currency: str, note: str | None) -> str:
    """What a recipient is told of money sent to them."""
    text = t(lang, "{who} sent you {amount}.", who=who, amount=money_text(amount, currency, lang))
    if note:
        text += " " + t(lang, "Note: {note}", note=note)
    return text
