"""Orders placed while a market is closed (nights, weekends, holidays) wait for its open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.brokerage.paper import PaperBroker
from bot.broker import OrderRequest, OrderSide, OrderStatus, OrderType

from .conftest import Clock

CASES = [
    # symbol, when (closed), expected next open: a weekend in New York, Ascension Day in Oslo,
    # Good Friday (and Easter Monday) in Paris, Christmas Day in New York.
    ("AAPL", datetime(2025, 3, 8, 12, 0, tzinfo=UTC), datetime(2025, 3, 10, 13, 30, tzinfo=UTC)),
    ("EQNR", datetime(2026, 5, 14, 10, 0, tzinfo=UTC), datetime(2026, 5, 15, 7, 0, tzinfo=UTC)),
    ("MC", datetime(2026, 4, 3, 10, 0, tzinfo=UTC), datetime(2026, 4, 7, 7, 0, tzinfo=UTC)),
    ("SPY", datetime(2025, 12, 25, 16, 0, tzinfo=UTC), datetime(2025, 12, 26, 14, 30, tzinfo=UTC)),
]


@pytest.mark.parametrize(("symbol", "closed_at", "opens_at"), CASES)
def test_order_while_closed_waits_for_the_open(
    broker: PaperBroker, clock: Clock, symbol: str, closed_at: datetime, opens_at: datetime
) -> None:
    clock.set(closed_at)
    quote = broker.quote(symbol)
    assert not quote.market_open and quote.next_open == opens_at
    order = broker.submit(OrderRequest("w1", symbol, OrderSide.BUY, qty=Decimal(3)))
    assert order.status is OrderStatus.ACCEPTED and order.fills == ()
    broker.poll()
    clock.set(opens_at - timedelta(seconds=1))
    assert broker.poll() == [] and broker.get_order("w1").status is OrderStatus.ACCEPTED
    clock.set(opens_at + timedelta(minutes=10))
    at_open = PaperBroker(seed=7, clock=lambda: opens_at).quote(symbol)
    [filled] = broker.poll()
    assert filled.status is OrderStatus.FILLED
    assert [(f.qty, f.price, f.at) for f in filled.fills] == [(3, at_open.ask, opens_at)]


def test_day_order_placed_while_closed_lives_through_the_next_session(
    broker: PaperBroker, clock: Clock
) -> None:
    clock.set(datetime(2026, 5, 14, 10, 0, tzinfo=UTC))  # Oslo closed for Ascension Day
    far = (broker.quote("EQNR").ask / 2).quantize(Decimal(1))
    broker.submit(OrderRequest("d1", "EQNR", OrderSide.BUY, qty=Decimal(1), type=OrderType.LIMIT,
                               limit_price=far))
    clock.set(datetime(2026, 5, 15, 14, 0, tzinfo=UTC))
    assert broker.get_order("d1").status is OrderStatus.NEW
    clock.set(datetime(2026, 5, 15, 14, 30, tzinfo=UTC))  # Oslo closes at 14:20 UTC
    expired = broker.get_order("d1")
    assert expired.status is OrderStatus.EXPIRED
    assert expired.updated_at == datetime(2026, 5, 15, 14, 20, tzinfo=UTC)
