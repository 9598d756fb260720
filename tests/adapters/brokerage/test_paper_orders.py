"""Paper broker orders: market, notional, limit, partial fills, cancel, expiry, checks, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.brokerage.paper import PaperBroker
from bot.broker import (
    InsufficientBuyingPower,
    InvalidOrder,
    NoShortSelling,
    OrderConflict,
    OrderNotFound,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    UnknownSymbol,
    max_cost,
)

from .conftest import Clock

BUY, SELL = OrderSide.BUY, OrderSide.SELL
D = Decimal


def buy(coid: str, symbol: str = "AAPL", **kw: object) -> OrderRequest:
    return OrderRequest(coid, symbol, BUY, **kw)  # type: ignore[arg-type]


def sell(coid: str, symbol: str = "AAPL", **kw: object) -> OrderRequest:
    return OrderRequest(coid, symbol, SELL, **kw)  # type: ignore[arg-type]


def limit(coid: str, side: OrderSide, price: Decimal, qty: str = "1", **kw: object) -> OrderRequest:
    return OrderRequest(coid, "AAPL", side, qty=D(qty), type=OrderType.LIMIT, limit_price=price, **kw)  # type: ignore[arg-type]


def held(broker: PaperBroker, symbol: str = "AAPL") -> Decimal:
    return sum((p.qty for p in broker.positions() if p.symbol == symbol), D(0))


def future_asks(clock: Clock, minutes: int) -> list[tuple[datetime, Decimal]]:
    """The asks AAPL will show over the coming minutes (a second broker, same seed, own clock)."""
    probe_clock = Clock(clock.now)
    probe = PaperBroker(seed=7, clock=probe_clock)
    out = []
    for _ in range(minutes):
        probe_clock.advance(minutes=1)
        out.append((probe_clock.now, probe.quote("AAPL").ask))
    return out


def test_market_buy_fills_at_the_ask(broker: PaperBroker) -> None:
    q = broker.quote("AAPL")
    order = broker.submit(buy("m1", qty=D(2)), buying_power=D(10_000))
    assert order.status is OrderStatus.FILLED
    assert order.filled_qty == 2 and order.filled_avg_price == q.ask
    assert [(f.qty, f.price, f.at) for f in order.fills] == [(D(2), q.ask, q.at)]
    assert order.price_bound == (q.ask * D("1.05")).quantize(D("0.01"), "ROUND_CEILING")
    assert held(broker) == 2
    [position] = broker.positions()
    assert position.avg_entry_price == q.ask and position.currency == "USD"


def test_market_sell_fills_at_the_bid_and_selling_all_leaves_no_position(broker: PaperBroker) -> None:
    broker.submit(buy("b", qty=D(3)))
    q = broker.quote("AAPL")
    order = broker.submit(sell("s", qty=D(3)))
    assert order.status is OrderStatus.FILLED and order.fills[0].price == q.bid
    assert broker.positions() == []


def test_notional_buy_of_a_fraction(broker: PaperBroker) -> None:
    ask = broker.quote("AAPL").ask
    order = broker.submit(buy("n1", notional=D("50.00")), buying_power=D("50.00"))
    assert order.status is OrderStatus.FILLED
    assert 0 < order.filled_qty < 1
    assert order.filled_qty == (D(50) / ask).quantize(D("1e-9"), "ROUND_DOWN")
    assert D(50) - ask * D("1e-9") < order.filled_cost <= D(50)
    assert held(broker) == order.filled_qty


def test_fraction_rules_follow_alpaca(broker: PaperBroker) -> None:
    with pytest.raises(InvalidOrder):
        broker.submit(buy("f1", "EQNR", notional=D(100)))  # Oslo shares are whole
    with pytest.raises(InvalidOrder):
        broker.submit(buy("f2", "EQNR", qty=D("0.5")))
    with pytest.raises(InvalidOrder):
        broker.submit(limit("f3", BUY, D("100.00"), qty="0.5"))
    with pytest.raises(InvalidOrder):
        broker.submit(buy("f4", qty=D("0.5"), time_in_force=TimeInForce.GTC))
    with pytest.raises(InvalidOrder):
        broker.submit(buy("f5", qty=D(1), notional=D(10)))
    with pytest.raises(InvalidOrder):
        broker.submit(buy("f6", qty=D("0.0000000001")))
    with pytest.raises(InvalidOrder):
        broker.submit(limit("f7", BUY, D("100.001")))
    with pytest.raises(InvalidOrder):
        broker.submit(buy("f8", type=OrderType.LIMIT, qty=D(1)))
    with pytest.raises(UnknownSymbol):
        broker.submit(buy("f9", "NOPE", qty=D(1)))
    assert broker.open_orders() == [] and broker.positions() == []
    assert broker.submit(buy("ok", qty=D("0.123456789"))).status is OrderStatus.FILLED


def test_limit_buy_fills_later_when_the_price_comes_down(broker: PaperBroker, clock: Clock) -> None:
    ask_now = broker.quote("AAPL").ask
    when, low = min(future_asks(clock, 180), key=lambda p: p[1])
    assert low < ask_now
    order = broker.submit(limit("l1", BUY, low, qty="5"))
    assert order.status is OrderStatus.NEW and order.fills == ()
    assert broker.poll() == [order]
    clock.set(when - timedelta(minutes=1))
    assert broker.poll() == [] and broker.get_order("l1").status is OrderStatus.NEW
    clock.set(when + timedelta(minutes=30))
    [filled] = broker.poll()
    assert filled.status is OrderStatus.FILLED
    assert filled.fills[0].at == when and filled.fills[0].price == low
    assert held(broker) == 5


def test_limit_sell_fills_at_the_bid_at_or_above_the_limit(broker: PaperBroker, clock: Clock) -> None:
    broker.submit(buy("b", qty=D(4)))
    target = broker.quote("AAPL").bid + D("0.50")
    broker.submit(limit("ls", SELL, target, qty="4", time_in_force=TimeInForce.GTC))
    for _ in range(10):
        clock.advance(hours=6)
        order = broker.get_order("ls")
        if not order.is_open:
            break
    assert order.status is OrderStatus.FILLED
    assert all(f.price >= target for f in order.fills)
    assert broker.positions() == []


def test_cancel_stops_an_order_and_keeps_its_fills(broker: PaperBroker, clock: Clock) -> None:
    far = (broker.quote("AAPL").ask * D("0.5")).quantize(D("0.01"))
    broker.submit(limit("c1", BUY, far, time_in_force=TimeInForce.GTC))
    canceled = broker.cancel("c1")
    assert canceled.status is OrderStatus.CANCELED and canceled.updated_at == clock.now
    assert broker.cancel("c1") == canceled  # a terminal order comes back unchanged
    assert broker.open_orders() == []
    clock.advance(days=30)
    assert broker.get_order("c1") == canceled
    with pytest.raises(OrderNotFound):
        broker.cancel("nope")
    with pytest.raises(OrderNotFound):
        broker.get_order("nope")


def test_day_order_expires_at_the_close_and_gtc_lives_on(broker: PaperBroker, clock: Clock) -> None:
    far = (broker.quote("AAPL").ask * D("0.5")).quantize(D("0.01"))
    broker.submit(limit("day", BUY, far))
    broker.submit(limit("gtc", BUY, far, time_in_force=TimeInForce.GTC))
    broker.poll()
    clock.set(datetime(2025, 3, 5, 20, 59, tzinfo=UTC))
    assert broker.poll() == []
    clock.set(datetime(2025, 3, 6, 1, 0, tzinfo=UTC))
    [expired] = broker.poll()
    assert expired.client_order_id == "day" and expired.status is OrderStatus.EXPIRED
    assert expired.updated_at == datetime(2025, 3, 5, 21, 0, tzinfo=UTC)
    assert [o.client_order_id for o in broker.open_orders()] == ["gtc"]


def test_market_order_never_crosses_its_price_bound(broker: PaperBroker, clock: Clock) -> None:
    ask = broker.quote("AAPL").ask
    order = broker.submit(buy("pb", qty=D(1), price_bound=ask - D("5.00")))
    assert order.status is OrderStatus.NEW and order.price_bound == ask - 5
    clock.set(datetime(2025, 3, 6, 1, 0, tzinfo=UTC))
    assert broker.get_order("pb").status is OrderStatus.EXPIRED


def test_big_orders_fill_over_several_minutes(make_broker: Callable[..., PaperBroker], clock: Clock) -> None:
    broker = make_broker(max_qty_per_step=D(10))
    first = broker.submit(buy("big", qty=D(25)))
    assert first.status is OrderStatus.PARTIALLY_FILLED and first.filled_qty == 10
    clock.advance(minutes=1)
    second = broker.get_order("big")
    assert second.status is OrderStatus.PARTIALLY_FILLED and second.filled_qty == 20
    clock.advance(minutes=5)
    done = broker.get_order("big")
    assert done.status is OrderStatus.FILLED
    assert [f.qty for f in done.fills] == [10, 10, 5]
    assert len({f.fill_id for f in done.fills}) == 3
    assert [f.at for f in done.fills] == [first.submitted_at.replace(second=0) + timedelta(minutes=i) for i in range(3)]
    assert done.filled_avg_price == (done.filled_cost / 25).quantize(D("0.000001"))
    assert held(broker) == 25


def test_cancel_after_a_partial_fill_keeps_the_filled_part(make_broker: Callable[..., PaperBroker]) -> None:
    broker = make_broker(max_qty_per_step=D(10))
    broker.submit(buy("big", qty=D(25)))
    canceled = broker.cancel("big")
    assert canceled.status is OrderStatus.CANCELED and canceled.filled_qty == 10
    assert held(broker) == 10


def test_no_short_selling(broker: PaperBroker) -> None:
    with pytest.raises(NoShortSelling):
        broker.submit(sell("s0", qty=D(1)))
    broker.submit(buy("b", qty=D(5)))
    with pytest.raises(NoShortSelling) as caught:
        broker.submit(sell("s1", qty=D(6)))
    assert caught.value.available == 5
    high = (broker.quote("AAPL").bid * 2).quantize(D("0.01"))
    broker.submit(limit("s2", SELL, high, qty="3", time_in_force=TimeInForce.GTC))
    with pytest.raises(NoShortSelling) as caught:
        broker.submit(sell("s3", qty=D(3)))  # three are held for the open sell
    assert caught.value.available == 2
    with pytest.raises(NoShortSelling):
        broker.submit(sell("s4", notional=D(1000)))
    assert broker.submit(sell("s5", qty=D(2))).status is OrderStatus.FILLED
    assert held(broker) == 3


def test_insufficient_buying_power_places_nothing(broker: PaperBroker) -> None:
    q = broker.quote("AAPL")
    request = buy("bp", qty=D(10))
    need = max_cost(request, q, broker.price_band_bps)
    assert need == 10 * (q.ask * D("1.05")).quantize(D("0.01"), "ROUND_CEILING")
    with pytest.raises(InsufficientBuyingPower) as caught:
        broker.submit(request, buying_power=need - D("0.01"))
    assert caught.value.required == need
    with pytest.raises(OrderNotFound):
        broker.get_order("bp")
    assert broker.positions() == [] and broker.poll() == []
    with pytest.raises(InsufficientBuyingPower):
        broker.submit(buy("bpn", notional=D("100.00")), buying_power=D("99.99"))
    with pytest.raises(InsufficientBuyingPower):
        broker.submit(limit("bpl", BUY, D("100.00"), qty="3"), buying_power=D("299.99"))
    assert broker.submit(request, buying_power=need).status is OrderStatus.FILLED


def test_duplicate_client_order_id_returns_the_same_order(broker: PaperBroker, clock: Clock) -> None:
    first = broker.submit(buy("dup", qty=D(2)))
    clock.advance(minutes=3)
    again = broker.submit(buy("dup", qty=D(2)), buying_power=D(0))
    assert again == first
    assert held(broker) == 2 and len(again.fills) == 1
    with pytest.raises(OrderConflict):
        broker.submit(buy("dup", qty=D(3)))
    with pytest.raises(OrderConflict):
        broker.submit(sell("dup", qty=D(2)))


def test_poll_reports_each_change_once(broker: PaperBroker, clock: Clock) -> None:
    assert broker.poll() == []
    order = broker.submit(buy("p1", qty=D(1)))
    assert broker.get_order("p1") == order  # reading it does not consume the change
    assert broker.poll() == [order]
    assert broker.poll() == []
    clock.advance(hours=1)
    assert broker.poll() == []
