"""Standing sends confirmed on cards made before standing orders had their own payload (bot/handlers/standing.py):
such a card, confirmed now, becomes the same schedule a new one does."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from bot.app import App
from bot.bus import Bus
from bot.events import Reply
from bot.handlers import outcomes
from bot.i18n import t
from bot.models import Action, User
from bot.payloads import Send
from bot.standing import store
from bot.standing.ends import End


def register(bus: Bus) -> None:
    """Nothing of its own: the tick and the list live in bot/handlers/standing.py."""


def confirmed(app: App, s: Session, a: Action, user: User, payload: Send, now: datetime) -> list[Reply]:
    """A standing or future send confirmed on an older card: its schedule written, its card says so."""
    once = replace(payload, recurrence=None, when=None)
    store.create(s, action_id=a.id, user_id=user.id or 0, kind="send", payload=json.loads(once.to_json()),
                 rule=payload.recurrence, when=payload.when, end=End(), now=now,
                 tz=user.tz or app.settings.default_timezone, hour=app.settings.schedule_local_hour)
    text = t(user.lang, "Scheduled ✅") + "\n" + payload.describe(user.lang)
    return outcomes.card_and_outcome(s, a, user, text)
