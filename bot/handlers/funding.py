"""Funding: a top-up the provider settles later is told as requested, not done (bot/settlement.py posts it)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.app import App
from bot.bus import Bus
from bot.events import Reply
from bot.execution import Outcome
from bot.handlers import outcomes
from bot.i18n import t
from bot.models import Action, User
from bot.payloads import Payload


def register(bus: Bus) -> None:
    bus.after_record["deposit"] = after_deposit


def after_deposit(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome,
                  now: datetime) -> list[Reply]:
    """A top-up done, or (with a provider that settles later) on its way: held until the bank confirms."""
    if outcome.code != "pending":
        return outcomes.done_card(s, a, user, payload)
    text = t(user.lang, "Top-up requested: the money shows once the bank confirms it, and I tell you then.")
    return outcomes.card_and_outcome(s, a, user, text + "\n" + payload.describe(user.lang))
