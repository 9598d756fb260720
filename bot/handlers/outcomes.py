"""Outcomes out: close a card, tell the initiator where they look, tell the payees, say why not."""

from __future__ import annotations

from sqlmodel import Session

from bot.directory import display
from bot.events import Button, Reply, ReplyKind
from bot.handlers import replies
from bot.i18n import t
from bot.models import Action, User
from bot.payloads import Payload, Send, load
from bot.reasons import reason as reason_text


def card_and_outcome(s: Session, a: Action, user: User, text: str,
                     buttons: tuple[tuple[Button, ...], ...] = ()) -> list[Reply]:
    """Close the card and tell the outcome once where the person looks: a card in a group is edited to
    the outcome (the group sees it) and the private chat gets it as a new message; a card in the
    private chat itself is closed with a short line, and the outcome follows it as a new message."""
    outcome = outcome_message(s, a, user, text, buttons)
    if outcome and a.card_chat_id == user.private_chat_id:
        closed = t(user.lang, "Confirmed: the result is below.") + "\n" + load(a.payload).describe(user.lang)
        return replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id, closed) + outcome
    return replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id, text, buttons) + outcome


def outcome_message(s: Session, a: Action, user: User, text: str,
                    buttons: tuple[tuple[Button, ...], ...] = ()) -> list[Reply]:
    """The outcome as a new message in the person's private chat, where they gave the PIN: the card it
    edits may be far up the chat, or in a group (whose card edit the group sees)."""
    if not user.private_chat_id:
        return []
    sent = replies.sent(s, f"card:{a.id}")
    if sent is None and a.card_chat_id == user.private_chat_id:
        return []  # the card was never shown, so edit_or_send has just sent the outcome as a new message
    return [Reply(ReplyKind.message, user.private_chat_id, text, buttons)]


def done_card(s: Session, a: Action, user: User, payload: Payload) -> list[Reply]:
    """The card closed as done ("Done ✅" and what it did), told where the person looks."""
    return card_and_outcome(s, a, user, t(user.lang, "Done ✅") + "\n" + payload.describe(user.lang))


def reason(code: str, lang: str) -> str:
    """Why it was not done, as a sentence (bot/reasons.py has one for every code; never the code itself)."""
    return reason_text(code, lang)


def notify_recipients(s: Session, sender: User, payload: Send) -> list[Reply]:
    """Tell each payee who has a private chat with the bot what they were sent."""
    out: list[Reply] = []
    for leg in payload.legs:
        if leg.to_user is None:
            continue
        other = s.get(User, leg.to_user)
        if other is None or not other.private_chat_id:
            continue
        out.append(Reply(ReplyKind.message, other.private_chat_id,
                         replies.sent_you(display(sender), other.lang, leg.amount, payload.currency, payload.note)))
    return out
