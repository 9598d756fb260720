"""The paper broker's prices: deterministic per seed, priced at any time, spread, market hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.brokerage.paper import PaperBroker
from adapters.brokerage.prices import PricePath
from adapters.brokerage.sessions import to_minute
from bot.broker import InvalidRequest, UnknownSymbol
from intents.directory import load_directory

from .conftest import Clock

SYMBOLS = ["AAPL", "EQNR", "MC", "SPY"]


def test_same_seed_and_clock_give_the_same_quotes(clock: Clock) -> None:
    a = PaperBroker(seed=11, clock=clock)
    b = PaperBroker(seed=11, clock=clock)
    for _ in range(5):
        assert [a.quote(s) for s in SYMBOLS] == [b.quote(s) for s in SYMBOLS]
        clock.advance(minutes=37)


def test_another_seed_gives_other_prices(clock: Clock) -> None:
    a = PaperBroker(seed=11, clock=clock)
    b = PaperBroker(seed=12, clock=clock)
    assert [a.quote(s).last for s in SYMBOLS] != [b.quote(s).last for s in SYMBOLS]


def test_a_time_is_priced_the_same_whatever_was_priced_before() -> None:
    ref = Decimal("190.00")
    minute = to_minute(datetime(2026, 6, 3, 15, 0, tzinfo=UTC))
    fresh = PricePath(5).mid("AAPL", ref, minute)
    warmed = PricePath(5)
    for days in (-900, -3, 400, 1):
        warmed.mid("AAPL", ref, minute + days * 1440)
    assert warmed.mid("AAPL", ref, minute) == fresh


def test_prices_move_but_stay_near_the_reference() -> None:
    path = PricePath(3)
    ref = Decimal("100.00")
    start = to_minute(datetime(2023, 1, 1, tzinfo=UTC))
    mids = [path.mid("X", ref, start + day * 1440 + 900) for day in range(0, 3 * 365, 5)]
    assert len(set(mids)) > 100
    assert min(mids) > ref / 3 and max(mids) < ref * 3
    assert all(m == m.quantize(Decimal("0.01")) for m in mids)


def test_quote_has_a_spread_on_the_tick(broker: PaperBroker) -> None:
    for symbol in SYMBOLS:
        q = broker.quote(symbol)
        assert q.bid < q.last < q.ask
        assert q.ask - q.bid <= q.last * Decimal("0.001")
        assert q.currency == load_directory().get(symbol).currency  # type: ignore[union-attr]


def test_quote_while_closed_is_the_last_close_and_says_when_it_opens(
    broker: PaperBroker, clock: Clock
) -> None:
    clock.set(datetime(2025, 3, 5, 20, 59, 30, tzinfo=UTC))  # the last minute of the session
    at_close = broker.quote("AAPL")
    assert at_close.market_open and at_close.next_open is None
    clock.set(datetime(2025, 3, 6, 3, 0, tzinfo=UTC))
    night = broker.quote("AAPL")
    assert not night.market_open
    assert night.next_open == datetime(2025, 3, 6, 14, 30, tzinfo=UTC)
    assert (night.bid, night.ask, night.last) == (at_close.bid, at_close.ask, at_close.last)


def test_unknown_symbol(broker: PaperBroker) -> None:
    with pytest.raises(UnknownSymbol):
        broker.quote("NOPE")


def test_price_history_is_flat_while_closed_and_matches_quotes(
    broker: PaperBroker, clock: Clock
) -> None:
    start = datetime(2025, 3, 7, 20, 0, tzinfo=UTC)  # Friday, an hour before the close
    points = broker.price_history("AAPL", start, start + timedelta(days=3), timedelta(hours=1))
    assert len(points) == 73
    assert points[0][0] == start and points[-1][0] == start + timedelta(days=3)
    weekend = [p for t, p in points if datetime(2025, 3, 7, 21, tzinfo=UTC) <= t
               < datetime(2025, 3, 10, 13, 30, tzinfo=UTC)]
    assert len(set(weekend)) == 1
    clock.set(points[5][0])
    assert broker.quote("AAPL").last == points[5][1]


def test_price_history_refuses_bad_ranges(broker: PaperBroker) -> None:
    start = datetime(2025, 3, 7, tzinfo=UTC)
    with pytest.raises(InvalidRequest):
        broker.price_history("AAPL", start, start - timedelta(days=1), timedelta(hours=1))
    with pytest.raises(InvalidRequest):
        broker.price_history("AAPL", start, start + timedelta(days=365), timedelta(minutes=1))


def test_times_outside_the_calendars_are_refused(broker: PaperBroker, clock: Clock) -> None:
    clock.set(datetime(2040, 1, 2, 15, 0, tzinfo=UTC))
    with pytest.raises(InvalidRequest):
        broker.quote("AAPL")
