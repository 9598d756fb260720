"""The ledger's holds with a timeout: expired by the tick, after the schedules and before the broker's poll."""

from __future__ import annotations

from datetime import datetime

from bot.app import App
from bot.bus import Bus
from bot.events import Reply


def register(bus: Bus) -> None:
    bus.ticks.append(expire_holds)


def expire_holds(app: App, now: datetime) -> list[Reply]:
    """Void the ledger's pending transfers whose timeout has passed (it says nothing to anyone)."""
    app.ledger.expire_pending()
    return []
