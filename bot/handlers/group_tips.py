"""Tips: "tip 2" as a reply pays the replied-to message's author, "tip @anna 1" names them; a payment with its
card and step-up, or within the small-tip allowance and its low-value budget, a press alone."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.actions import money_text
from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.directory import display
from bot.events import Reply
from bot.execution import Outcome
from bot.groups import tips
from bot.groups.payloads import (
    SmallTip,
    Tip,
)
from bot.handlers import cards, payments, replies
from bot.handlers.group_common import notify, transfer
from bot.i18n import t
from bot.models import Action, User
from bot.payloads import Payload
from intents.model import Intent


def register(bus: Bus) -> None:
    bus.intents["tip"] = intent_tip
    bus.executors["tip"] = transfer
    bus.executors["tip_small"] = transfer
    bus.after_record["tip"] = after_tip
    bus.after_record["tip_small"] = after_tip


def intent_tip(app: App, c: Ctx, intent: Intent) -> None:
    cur = payments.currency(c, intent)
    amount = payments.minor(app, c, intent.amount, cur)
    if amount is None:
        return
    legs = payments.resolve(app, c, tuple(intent.recipients[:1]))
    if legs is None:
        return
    leg = legs[0]
    if leg.to_user is None:
        c.say(t(c.lang, "{who} has not started finbot yet: a tip needs someone who has.", who=leg.label))
        return
    eur = _eur_cents(app, amount, cur)
    small = tips.skips_pin(c.s, c.user.id or 0, eur, allowance=app.settings.tip_allowance,
                           max_count=app.settings.tip_budget_count, max_total=app.settings.tip_budget_eur, now=c.now)
    cls = SmallTip if small else Tip
    cards.propose(app, c, cls(currency=cur, amount=amount, to_user=leg.to_user, to_label=leg.label, eur_cents=eur,
                              from_user=c.user.id or 0))


def _eur_cents(app: App, amount: int, currency: str) -> int | None:
    """The tip's value in euro cents for the low-value budget (None: no rate known, so no exemption)."""
    if currency == "EUR":
        return amount
    rates = getattr(app, "rates", None)
    if rates is None:
        return None
    try:
        from decimal import Decimal

        from ledger.money import from_minor

        rate = rates.rate(currency, "EUR")
        return int((from_minor(amount, currency) * Decimal(rate) * 100).to_integral_value())
    except Exception:  # noqa: BLE001 - any failure of the rate means no exemption: the PIN is asked
        return None


def after_tip(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome, now: datetime) -> list[Reply]:
    assert isinstance(payload, Tip)
    if isinstance(payload, SmallTip):
        tips.spend(s, payload.from_user, payload.eur_cents or 0, now)
    else:
        tips.reset(s, payload.from_user, now)  # a PIN was given: the low-value budget starts again
    out = replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id, t(user.lang, "Done ✅") + "\n" + payload.describe(user.lang))
    payee = s.get(User, payload.to_user)
    if payee is not None:
        out += notify(s, payee, a.origin_chat_id, a.messenger,
                       t(payee.lang, "{who} tipped you {amount}.", who=display(user),
                         amount=money_text(payload.amount, payload.currency, payee.lang)))
    return out


