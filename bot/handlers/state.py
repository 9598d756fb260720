"""Conversation state: the question the bot is waiting on for a person (a JSON object, or None)."""

from __future__ import annotations

import json
from typing import Any

from bot.context import Ctx
from bot.models import Conversation


def get(c: Ctx) -> dict[str, Any] | None:
    """What the bot waits for from this person ({"await": kind, "chat": ..., ...}), or None."""
    row = c.s.get(Conversation, c.user.id)
    if row is None:
        return None
    state: dict[str, Any] = json.loads(row.state)
    return state or None


def set(c: Ctx, state: dict[str, Any] | None) -> None:  # noqa: A001 (state.set, as the bus's API names it)
    """Remember (or, with None, forget) what the bot waits for from this person."""
    row = c.s.get(Conversation, c.user.id)
    text = json.dumps(state or {})
    if row is None:
        assert c.user.id is not None
        c.s.add(Conversation(user_id=c.user.id, state=text, updated_at=c.now))
    else:
        row.state, row.updated_at = text, c.now
