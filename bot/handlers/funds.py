"""Checks before money moves: the per-payment limit, and whether the wallet can pay (with a top-up offer)."""

from __future__ import annotations

from bot import commands
from bot.actions import money_text
from bot.app import App
from bot.context import Ctx
from bot.directory import owner_of
from bot.events import Button
from bot.handlers import tokens
from bot.i18n import t
from bot.limits import over_limit
from bot.models import Action, User
from bot.payloads import Payload, load


def limit_ok(app: App, c: Ctx, payload: Payload) -> bool:
    """True when the action is within the initiator's per-payment limit; else says so (every road asks this)."""
    cap = over_limit(app.settings, c.user.kyc_tier, payload.kind, payload.to_dict())
    if cap is None:
        return True
    c.say(t(c.lang, "That is above your limit of {limit} per payment. An operator can raise your tier.",
            limit=money_text(cap, payload.currency, c.lang)))
    return False


def shortfall(app: App, user: User, payload: Payload) -> tuple[str, int, int] | None:
    """(currency, available, needed) when the user's wallet holds less than the action needs; else None."""
    need = payload.funds_needed()
    if need is None or user.id is None:
        return None
    cur, amount = need
    acc = app.ledger.find_account(owner_of(user.id), cur)
    have = app.ledger.balance(acc.id).available if acc is not None else 0
    return (cur, have, amount) if have < amount else None


def short_text(lang: str, cur: str, have: int, need: int, *, on_card: bool) -> str:
    """The warning that the wallet cannot pay, and what to top up."""
    text = t(lang, "⚠️ Not enough money: your wallet has {have}, this needs {need}.",
             have=money_text(have, cur, lang), need=money_text(need, cur, lang))
    if on_card:
        return text + " " + t(lang, "Top up {amount} first, then press Confirm.", amount=money_text(need - have, cur, lang))
    return text + " " + t(lang, "Top up {amount} first; the card stays open until it expires.", amount=money_text(need - have, cur, lang))


def topup_button(lang: str, cur: str, amount: int, token: str, *, link: bool) -> Button:
    """The Top up button: a press in the private chat, or a link into it from a group."""
    label = t(lang, "Top up {amount}", amount=money_text(amount, cur, lang))
    return Button(label, start_payload=token) if link else Button(label, data=token)


def short_at_confirm(app: App, c: Ctx, a: Action) -> bool:
    """Before any step-up: when the wallet cannot pay, say so with a top-up and a fresh Confirm, and ask no PIN."""
    payload = load(a.payload)
    short = shortfall(app, c.user, payload)
    if short is None:
        return False
    cur, have, need = short
    topup = tokens.raw_token(app, c.s, "topup", now=c.now, action_id=a.id, allowed=c.user.id, lifetime=app.ttl)
    confirm = tokens.token(app, c, "confirm", action_id=a.id, allowed=c.user.id)
    labels = commands.labels(c.lang)
    dm = c.user.private_chat_id
    link = dm is None and not c.private
    buttons = ((topup_button(c.lang, cur, need - have, topup, link=link),
                Button(labels["confirm"], start_payload=confirm) if link else Button(labels["confirm"], data=confirm)),)
    text = payload.describe(c.lang) + "\n" + short_text(c.lang, cur, have, need, on_card=False)
    c.say(text, chat_id=dm, buttons=buttons)
    return True
