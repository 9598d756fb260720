"""The freeze guard the money rooms ask: a frozen account cannot send, request, confirm, trade or withdraw."""

from __future__ import annotations

from sqlmodel import Session

from bot.models import User
from bot.operators.service import under_review
from bot.operators.standing import is_closed, is_frozen

__all__ = ["frozen_text", "is_closed", "is_frozen"]


def frozen_text(s: Session, user: User) -> str | None:
    """What to tell the person when their account is frozen (in their language), else None."""
    return under_review(user.lang) if is_frozen(s, user.id) else None
