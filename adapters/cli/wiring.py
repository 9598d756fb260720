"""Composition helpers: the broker adapter a run needs, with its state kept in the run's database."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

_md = sa.MetaData()
broker_state = sa.Table(
    "broker_state", _md,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
)


class DbStateStore:
    """The paper broker's JSON state in a row of the database, so runs in sequence share one world."""

    def __init__(self, db: sa.Engine, name: str = "paper") -> None:
        self.db = db
        self.name = name
        from bot.db import create_tables

        create_tables(_md, db)

    def load(self) -> dict[str, Any] | None:
        with self.db.connect() as conn:
            raw = conn.execute(sa.select(broker_state.c.state).where(broker_state.c.name == self.name)).scalar_one_or_none()
        return json.loads(raw) if raw else None

    def save(self, state: dict[str, Any]) -> None:
        text = json.dumps(state, sort_keys=True)
        with self.db.begin() as conn:
            done = conn.execute(sa.update(broker_state).where(broker_state.c.name == self.name).values(state=text)).rowcount
            if not done:
                conn.execute(sa.insert(broker_state).values(name=self.name, state=text))


def build_broker(settings: Any, db: sa.Engine, clock: Callable[[], datetime] | None) -> Any:
    """The broker named by BROKER (paper by default), its state kept in the run's database."""
    from adapters.brokerage.factory import make_broker
    from intents.directory import load_directory

    store = DbStateStore(db) if str(settings.broker).strip().lower() == "paper" else None
    return make_broker(settings, clock=clock, store=store, directory=load_directory())


def build_rates(settings: Any, clock: Callable[[], datetime] | None = None) -> Any:
    """The exchange-rates port FX_PROVIDER names: the ECB table shipped offline (ecb, the default), or the
    live provider at FX_HTTP_URL (http), whose "today" follows the run's clock."""
    from adapters.rates.http import rates_from_settings

    today = (lambda: clock().date()) if clock is not None else None
    return rates_from_settings(settings, today=today)
