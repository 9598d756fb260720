"""A local world on a test database with a clock the test controls."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.cli.wiring import build_broker
from adapters.funding.sandbox import SandboxFunding
from adapters.local.world import LocalWorld
from bot.bootstrap import build_engine
from bot.config import load_settings
from ledger import create_engine

START = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # a Wednesday, US market open


def make_world(db_url: str, out: Path, **overrides: Any) -> LocalWorld:
    """The engine wired as `finbot simulate` wires it, on `db_url`, with the world's clock at START."""
    overrides.setdefault("pin_key_file", str(out.parent / "pin.key"))  # the PIN key outside the database, per test
    settings = load_settings(database_url=db_url, output_dir=out, telegram_bot_token="", **overrides)
    db = create_engine(db_url)
    world = LocalWorld(None, db, out)
    world.set_now(START)
    broker = build_broker(settings, db, world.now)
    world.engine = build_engine(settings, messenger="local", clock=world.now, funding=SandboxFunding(), broker=broker, db=db)
    return world


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Any:
    w = make_world(db_url, tmp_path / "out")
    yield w
    report = w.engine.ledger.check()
    assert report.ok, report.problems
    from bot.escrow import reconcile

    assert reconcile(w.db, w.engine.ledger) == []
    w.db.dispose()
