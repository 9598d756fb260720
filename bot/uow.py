"""The unit of work of one event: the engine's session (in Ctx), the ledger after it, and the commit.

`Engine.handle` (bot/engine.py) opens the session, records the event once, runs the handlers and
commits; a handler that needs the ledger calls `ledger(app, c)`, which commits the engine's own
work first (one writer at a time on SQLite), and work that must follow the commit goes in `c.after`.
"""

from __future__ import annotations

from bot.app import App
from bot.context import Ctx
from ledger import Ledger


def ledger(app: App, c: Ctx) -> Ledger:
    """The ledger, after committing the engine's own work (one writer at a time on SQLite)."""
    c.s.commit()
    return app.ledger
