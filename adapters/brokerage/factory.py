"""Build the broker a run asks for (settings.broker: paper or alpaca), for the composition root."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from adapters.brokerage.paper import PaperBroker
from adapters.brokerage.state import StateStore
from bot.broker import Broker
from intents.directory import InstrumentDirectory


def make_broker(
    settings: Any,
    *,
    clock: Callable[[], datetime] | None = None,
    store: StateStore | None = None,
    directory: InstrumentDirectory | None = None,
) -> Broker:
    """PaperBroker(seed, band, clock, store) or AlpacaBroker(keys and URL from settings)."""
    kind = str(settings.broker).strip().lower()
    if kind == "paper":
        kwargs: dict[str, Any] = {"seed": int(settings.broker_seed),
                                  "price_band_bps": int(settings.broker_price_band_bps),
                                  "store": store, "directory": directory}
        if clock is not None:
            kwargs["clock"] = clock
        return PaperBroker(**kwargs)
    if kind == "alpaca":
        from adapters.brokerage.alpaca import AlpacaBroker

        return AlpacaBroker.from_settings(settings, directory=directory)
    raise ValueError(f"BROKER must be paper or alpaca, not {settings.broker!r}")

