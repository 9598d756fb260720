"""The guard the money rooms ask: a frozen account cannot send, request, confirm, trade or withdraw, and no
payment passes the person's limits (the tier's per payment, or the operators' own per payment, day, month)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.actions import money_text
from bot.config import Settings
from bot.i18n import t
from bot.models import User
from bot.operators.standing import frozen_ids, is_closed, is_frozen, over
from bot.operators.texts import under_review

__all__ = ["EXEMPT", "frozen_ids", "frozen_refusal", "is_closed", "is_frozen", "refusal"]

#: kinds a frozen account may still confirm: operators' own acts (an operator under review acts through others)
EXEMPT = frozenset({"admin", "admin_approve"})


def frozen_refusal(s: Session, user: User, kind: str) -> str | None:
    """Why this person cannot propose or confirm an action of `kind` now (in their language), else None."""
    if kind in EXEMPT or not is_frozen(s, user.id):
        return None
    return under_review(user.lang)


def refusal(s: Session, settings: Settings, user: User, kind: str, payload: dict[str, Any], now: datetime) -> str | None:
    """Why this action cannot be proposed: the account is frozen, or it passes a limit; None when it may."""
    frozen = frozen_refusal(s, user, kind)
    if frozen is not None:
        return frozen
    hit = over(s, settings, user, kind, payload, now)
    if hit is None:
        return None
    name, cap = hit
    cur = str(payload.get("currency", user.currency))
    limit = money_text(cap, cur, user.lang)
    if name == "per_day":
        return t(user.lang, "That would pass your limit of {limit} a day. It starts again at midnight UTC.", limit=limit)
    if name == "per_month":
        return t(user.lang, "That would pass your limit of {limit} a month. It starts again on the 1st.", limit=limit)
    return t(user.lang, "That is above your limit of {limit} per payment. An operator can raise your tier.", limit=limit)
