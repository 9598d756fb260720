"""make_broker builds what settings.broker names, with the settings' seed, band and keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.brokerage.alpaca import AlpacaBroker
from adapters.brokerage.factory import make_broker
from adapters.brokerage.paper import PaperBroker
from adapters.brokerage.state import JsonFileStore
from bot.broker import BrokerUnavailable
from bot.config import Settings

from .conftest import Clock


def test_paper_from_settings(tmp_path: Path, clock: Clock) -> None:
    settings = Settings(broker="paper", broker_seed=99, broker_price_band_bps=250, _env_file=None)  # type: ignore[call-arg]
    broker = make_broker(settings, clock=clock, store=JsonFileStore(tmp_path / "p.json"))
    assert isinstance(broker, PaperBroker)
    assert (broker.seed, broker.price_band_bps, broker.clock) == (99, 250, clock)


def test_alpaca_from_settings_needs_keys() -> None:
    bare = Settings(broker="alpaca", alpaca_api_key="", alpaca_secret_key="", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(BrokerUnavailable):
        make_broker(bare)
    keyed = Settings(broker="alpaca", alpaca_api_key="k", alpaca_secret_key="s",  # type: ignore[call-arg]
                     alpaca_base_url="http://127.0.0.1:9/v2", _env_file=None)
    broker = make_broker(keyed)
    assert isinstance(broker, AlpacaBroker)
    broker.close()


def test_unknown_broker() -> None:
    with pytest.raises(ValueError):
        make_broker(Settings(broker="robinhood", _env_file=None))  # type: ignore[call-arg]
