"""The unit of work of one event: the engine's session (in Ctx), the ledger after it, and the commit.

`Engine.handle` (bot/engine.py) opens the session, records the event once, runs the handlers and
commits; a handler that needs the ledger calls `ledger(app, c)`, which commits the engine's own
work first (one writer at a time on SQLite), and work that must follow the commit goes in `c.after`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from bot import outbox
from bot.app import App
from bot.context import Ctx
from bot.events import Reply, ReplyKind
from ledger import Ledger


def ledger(app: App, c: Ctx) -> Ledger:
    """The ledger, after committing the engine's own work (one writer at a time on SQLite); the replies said so
    far are committed with it (when the app writes them to the outbox)."""
    c.replies[:] = queue(app, c.s, c.replies, f"event:{c.ev.event_id}")
    c.s.commit()
    return app.ledger


def queue(app: App, s: Session, replies: Sequence[Reply], source: str) -> list[Reply]:
    """Write `replies` to the outbox in the session's transaction when the app has one (they are committed, or
    lost, with the change they report); what is left for the caller to deliver (all of them without an outbox)."""
    if app.outbox is None:
        return list(replies)
    if replies:
        outbox.enqueue(s.connection(), app.outbox, replies, source)
        if any(r.kind is ReplyKind.answer_press for r in replies):
            s.info["press_answered"] = True
    return []
