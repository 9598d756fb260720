"""Orders still open in our books are asked for by id on the first poll: a broker may not report what
changed while no process ran (Alpaca), and the fill must still reach the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.brokerage.paper import PaperBroker
from adapters.funding.sandbox import SandboxFunding
from adapters.local.world import LocalWorld
from bot.bootstrap import build_engine
from bot.config import load_settings
from bot.directory import owner_of
from intents.directory import load_directory
from ledger import create_engine, from_minor
from tests.bot.test_engine import onboard


class SilentBroker(PaperBroker):
    """The paper broker, but its poll never reports anything (a stand-in for the port's worst case)."""

    def poll(self) -> list[Any]:
        super().poll()
        return []


def test_an_order_filled_while_unreported_is_posted(sqlite_url: str, tmp_path: Path) -> None:
    saturday = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    settings = load_settings(database_url=sqlite_url, output_dir=tmp_path, telegram_bot_token="")
    db = create_engine(sqlite_url)
    world = LocalWorld(None, db, tmp_path)
    world.set_now(saturday)
    broker = SilentBroker(seed=42, clock=world.now, directory=load_directory())
    world.engine = build_engine(settings, messenger="local", clock=world.now, funding=SandboxFunding(), broker=broker, db=db)
    onboard(world, "alice", topup="$500")
    world.render(world.say("alice", "dm", "buy 1 share of AAPL"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    assert broker.get_order(broker.open_orders()[0].client_order_id).status.value == "accepted"
    world.render(world.advance(timedelta(days=2, hours=3)))  # Monday, after the open
    ledger = world.engine.ledger
    position = ledger.find_account(owner_of(1), "SHR:AAPL", "position")
    assert position is not None and from_minor(ledger.balance(position.id).posted, "SHR:AAPL") == Decimal(1)
    wallet = ledger.find_account(owner_of(1), "USD")
    assert wallet is not None and ledger.balance(wallet.id).debits_pending == 0
    assert ledger.check().ok
    db.dispose()
