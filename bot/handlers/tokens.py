"""Button tokens: opaque, stored (PressToken), naming what a press does and who may press it."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.app import App
from bot.context import Ctx
from bot.models import PressToken


def press_token() -> str:
    """A fresh opaque button token. Never one starting with "kp": a press whose data starts so is read
    as a PIN keypad key (1 in 4096 random tokens did, and their card could not be confirmed)."""
    while True:
        token = secrets.token_urlsafe(16)
        if not token.startswith("kp"):
            return token


def raw_token(app: App, s: Session, choice: str, *, now: datetime, action_id: str | None = None,
              request_id: int | None = None, allowed: int | None = None, single_use: bool = False,
              lifetime: timedelta | None = None) -> str:
    """An opaque button token; by default a reusable one living as long as a request (escrow days)."""
    token = press_token()
    s.add(PressToken(token=token, action_id=action_id, request_id=request_id, choice=choice, allowed_user_id=allowed,
                     single_use=single_use,
                     expires_at=now + (lifetime or timedelta(days=app.settings.escrow_days))))
    return token


def token(app: App, c: Ctx, choice: str, *, action_id: str, allowed: int | None) -> str:
    """A single-use token for a card's Confirm or Cancel, valid as long as the card."""
    return raw_token(app, c.s, choice, now=c.now, action_id=action_id, allowed=allowed, single_use=True,
                     lifetime=app.ttl)
