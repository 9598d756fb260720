"""The paper broker's state survives JSON, restarts and a second process on the same store."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.brokerage.paper import PaperBroker
from adapters.brokerage.state import JsonFileStore, MemoryStore
from bot.broker import (
    BrokerError,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)

from .conftest import WEDNESDAY_1500, Clock

D = Decimal


def script(broker: PaperBroker, clock: Clock, between: Callable[[], PaperBroker]) -> list[object]:
    """A fixed run of orders and clock moves; `between` may swap the broker for a restored one."""
    seen: list[object] = []
    steps: list[Callable[[PaperBroker], object]] = [
        lambda b: b.submit(OrderRequest("a", "AAPL", OrderSide.BUY, qty=D(1500))),
        lambda b: b.submit(OrderRequest("b", "AAPL", OrderSide.BUY, qty=D(3), type=OrderType.LIMIT,
                                        limit_price=b.quote("AAPL").bid, time_in_force=TimeInForce.GTC)),
        lambda b: b.submit(OrderRequest("c", "EQNR", OrderSide.BUY, qty=D(2))),
        lambda b: b.submit(OrderRequest("d", "AAPL", OrderSide.SELL, notional=D("1000.00"))),
    ]
    for step in steps:
        seen.append(step(broker))
        clock.advance(minutes=1)
        broker = between()
        seen.append(broker.poll())
    for hours in (1, 7, 30, 60):
        clock.advance(hours=hours)
        broker = between()
        seen.extend([broker.poll(), broker.positions(), broker.open_orders()])
    return seen


def test_a_restored_broker_carries_on_exactly_as_one_never_stopped() -> None:
    clock = Clock(WEDNESDAY_1500)
    steady = PaperBroker(seed=3, clock=clock)
    expected = script(steady, clock, lambda: steady)

    clock2 = Clock(WEDNESDAY_1500)
    holder = [PaperBroker(seed=3, clock=clock2)]

    def restart() -> PaperBroker:
        state = json.loads(json.dumps(holder[0].to_state()))
        holder[0] = PaperBroker.from_state(state, clock=clock2)
        return holder[0]

    assert script(holder[0], clock2, restart) == expected
    assert any(isinstance(x, list) and x for x in expected)


def test_processes_in_sequence_share_one_world_through_a_store(tmp_path: Path, clock: Clock) -> None:
    store = JsonFileStore(tmp_path / "paper.json")
    first = PaperBroker(seed=9, clock=clock, store=store)
    clock.set(datetime(2025, 3, 8, 12, 0, tzinfo=UTC))  # Saturday
    first.submit(OrderRequest("w", "AAPL", OrderSide.BUY, qty=D(2)))

    second = PaperBroker(seed=9, clock=clock, store=store)
    assert second.get_order("w").status is OrderStatus.ACCEPTED
    clock.set(datetime(2025, 3, 10, 15, 0, tzinfo=UTC))
    assert [o.status for o in second.poll()] == [OrderStatus.FILLED]

    # the first broker adopts the newer saved state rather than matching the order again
    assert first.poll() == []
    assert [(p.symbol, p.qty) for p in first.positions()] == [("AAPL", 2)]
    with pytest.raises(ValueError):
        PaperBroker(seed=10, clock=clock, store=store)


def test_state_is_plain_json(broker: PaperBroker) -> None:
    broker.submit(OrderRequest("j", "AAPL", OrderSide.BUY, notional=D("25.00")))
    state = broker.to_state()
    assert json.loads(json.dumps(state)) == state
    assert state["seed"] == 7 and state["orders"][0]["client_order_id"] == "j"


ORDERS = st.tuples(
    st.sampled_from(["AAPL", "EQNR"]),
    st.sampled_from(list(OrderSide)),
    st.one_of(
        st.integers(1, 40).map(D),
        st.decimals(D("0.001"), D(5), places=3).map(lambda d: ("qty", d)),
        st.integers(5, 3000).map(lambda n: ("notional", D(n))),
    ),
    st.sampled_from([None, D("-0.03"), D("0.02")]),
    st.integers(0, 600),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ORDERS, min_size=1, max_size=12))
def test_positions_are_the_fills_and_never_go_short(orders: list[tuple]) -> None:  # type: ignore[type-arg]
    clock = Clock(WEDNESDAY_1500)
    broker = PaperBroker(seed=5, clock=clock, max_qty_per_step=D(7), store=MemoryStore())
    for n, (symbol, side, size, offset, wait) in enumerate(orders):
        kw: dict[str, object] = {}
        if isinstance(size, tuple):
            kw[size[0]] = size[1]
        else:
            kw["qty"] = size
        qty = kw.get("qty")
        if offset is not None and isinstance(qty, Decimal) and qty == qty.to_integral_value():
            q = broker.quote(symbol)
            kw.update(type=OrderType.LIMIT, limit_price=(q.last * (1 + offset)).quantize(D("0.01")),
                      time_in_force=TimeInForce.GTC)
        try:
            broker.submit(OrderRequest(f"o{n}", symbol, side, **kw), buying_power=D(50_000))  # type: ignore[arg-type]
        except BrokerError:
            pass
        clock.advance(minutes=wait)
        held = {p.symbol: p.qty for p in broker.positions()}
        assert all(q > 0 for q in held.values())
        orders_now = [broker.get_order(f"o{i}") for i in range(n + 1) if _exists(broker, f"o{i}")]
        for symbol_ in ("AAPL", "EQNR"):
            net = sum(
                (f.qty if o.side is OrderSide.BUY else -f.qty)
                for o in orders_now if o.symbol == symbol_ for f in o.fills
            )
            assert net == held.get(symbol_, 0)
        for o in orders_now:
            assert o.filled_qty == sum(f.qty for f in o.fills)
            if o.qty is not None:
                assert o.filled_qty <= o.qty
                assert (o.status is OrderStatus.FILLED) == (o.filled_qty == o.qty)
            else:
                assert o.notional is not None and o.filled_cost <= o.notional
            if o.type is OrderType.LIMIT and o.limit_price is not None:
                sign = 1 if o.side is OrderSide.BUY else -1
                assert all(sign * (o.limit_price - f.price) >= 0 for f in o.fills)
    clock.advance(days=5)  # past the session of any DAY order, even one placed on a Friday night
    assert all(o.time_in_force is TimeInForce.GTC for o in broker.open_orders())


def _exists(broker: PaperBroker, coid: str) -> bool:
    try:
        broker.get_order(coid)
    except BrokerError:
        return False
    return True


def test_clock_going_back_changes_nothing(broker: PaperBroker, clock: Clock) -> None:
    broker.submit(OrderRequest("t", "AAPL", OrderSide.BUY, qty=D(1)))
    before = broker.positions()
    clock.set(clock.now - timedelta(days=3))
    assert broker.poll()[0].status is OrderStatus.FILLED
    assert broker.positions()[0].qty == before[0].qty
