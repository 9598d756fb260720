"""The composition root's helper: build an Engine from settings and the adapters a run hands in.

The ports are passed in by parameter; `build_app` (bot/app.py) wires the services from them, and the
engine loads the rooms of bot/bus.py's ROOMS into its bus."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.app import App, build_app
from bot.config import Settings
from bot.db import migrate_all
from bot.engine import Engine
from bot.funding import FundingPort
from ledger import Ledger, create_engine


def build_engine(
    settings: Settings,
    *,
    messenger: str = "local",
    clock: Callable[[], datetime] | None = None,
    funding: FundingPort,
    broker: Any = None,
    bot_username: str | None = None,
    db: Any = None,
) -> Engine:
    """Open (and migrate) the database and wire the engine with the given adapters."""
    engine = db if db is not None else create_engine(settings.database_url)
    migrate_all(engine)
    ledger = Ledger(engine, clock=clock)
    from intents.directory import load_directory

    return Engine(db=engine, ledger=ledger, settings=settings, funding=funding, clock=clock,
                  messenger=messenger, broker=broker, instruments=load_directory())


__all__ = ["App", "build_app", "build_engine"]
