"""The Alpaca adapter against a loopback server speaking Alpaca's API: orders, fills, errors, quotes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest

from adapters.brokerage.alpaca import AlpacaBroker
from bot.broker import (
    BrokerUnavailable,
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
)
from tests.tools.alpaca_server import AlpacaServer

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL


@pytest.fixture
def server() -> Iterator[AlpacaServer]:
    with AlpacaServer() as srv:
        yield srv


@pytest.fixture
def alpaca(server: AlpacaServer) -> Iterator[AlpacaBroker]:
    broker = AlpacaBroker(api_key="test-key", secret_key="test-secret", base_url=server.url,
                          data_url=server.url, timeout=5)
    yield broker
    broker.close()


def limit(coid: str, side: OrderSide, price: str, qty: str = "1", **kw: object) -> OrderRequest:
    return OrderRequest(coid, "AAPL", side, qty=D(qty), type=OrderType.LIMIT, limit_price=D(price), **kw)  # type: ignore[arg-type]


def test_the_server_speaks_shapes_alpaca_py_accepts(server: AlpacaServer) -> None:
    client = TradingClient("test-key", "test-secret", url_override=server.url)
    server.fill_on_submit = True
    client.post("/orders", {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market",
                            "time_in_force": "day", "client_order_id": "x"})
    account = client.get_account()
    assert account.status == "ACTIVE" and D(account.cash) == D(100_000) - D("190.01")  # type: ignore[union-attr]
    assert client.get_clock().is_open  # type: ignore[union-attr]
    [order] = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))  # type: ignore[misc]
    [position] = client.get_all_positions()  # type: ignore[misc]
    assert order.client_order_id == "x" and order.status == "filled"
    assert position.symbol == "AAPL" and position.qty == "1"


def test_market_buy_goes_out_with_our_id_and_fills(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    order = alpaca.submit(OrderRequest("act-1", "AAPL", BUY, qty=D(2)))
    [post] = server.calls("POST", "/v2/orders")
    assert post.body == {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day",
                         "client_order_id": "act-1", "qty": "2"}
    assert post.headers["apca-api-key-id"] == "test-key"
    assert order.status is OrderStatus.FILLED and order.filled_qty == 2
    assert order.filled_avg_price == D("190.01") and order.broker_order_id == next(iter(server.orders))
    [fill] = order.fills
    assert (fill.qty, fill.price, fill.client_order_id) == (D(2), D("190.01"), "act-1")
    assert "::" in fill.fill_id


def test_notional_buy_of_a_fraction(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    order = alpaca.submit(OrderRequest("n", "AAPL", BUY, notional=D("50.00")))
    assert server.calls("POST", "/v2/orders")[0].body["notional"] == "50.00"
    assert order.status is OrderStatus.FILLED and 0 < order.filled_qty < 1
    assert order.filled_cost <= D(50)


def test_limit_order_status_follows_alpaca(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    order = alpaca.submit(limit("l", BUY, "185.00", qty="3", time_in_force=TimeInForce.GTC))
    assert order.status is OrderStatus.NEW and order.limit_price == D("185.00")
    assert server.calls("POST", "/v2/orders")[0].body["limit_price"] == "185.00"
    assert alpaca.poll() == [order]
    assert alpaca.poll() == []
    server.prices["AAPL"] = D("184.00")
    server.match()
    [filled] = alpaca.poll()
    assert filled.status is OrderStatus.FILLED and filled.fills[0].price == D("184.01")
    assert alpaca.poll() == []
    assert alpaca.get_order("l") == filled


def test_partial_fills_have_stable_ids(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    server.max_fill_qty = D(1)
    first = alpaca.submit(OrderRequest("p", "AAPL", BUY, qty=D(3)))
    assert first.status is OrderStatus.PARTIALLY_FILLED and first.filled_qty == 1
    server.match()
    server.prices["AAPL"] = D("191.00")
    server.match()
    done = alpaca.get_order("p")
    assert done.status is OrderStatus.FILLED
    assert [f.qty for f in done.fills] == [1, 1, 1] and done.fills[0] == first.fills[0]
    assert done.filled_cost == D("190.01") * 2 + D("191.01")


def test_cancel(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    order = alpaca.submit(limit("c", BUY, "100.00"))
    canceled = alpaca.cancel("c")
    assert canceled.status is OrderStatus.CANCELED
    assert [r.path for r in server.calls("DELETE", f"/v2/orders/{order.broker_order_id}")]
    assert alpaca.cancel("c") == canceled
    assert len(server.calls("DELETE", f"/v2/orders/{order.broker_order_id}")) == 1
    with pytest.raises(OrderNotFound):
        alpaca.cancel("nope")


def test_cancel_that_loses_the_race_to_a_fill_returns_the_fill(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    alpaca.submit(limit("race", BUY, "100.00"))
    server.fill("race", D(1), D("99.50"))
    server.fail_next(422, 42210000, 'order is already in "filled" state', after=2)  # GET order, GET fills, DELETE
    order = alpaca.cancel("race")
    assert order.status is OrderStatus.FILLED and order.fills[0].price == D("99.50")


def test_positions(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    alpaca.submit(OrderRequest("a", "AAPL", BUY, qty=D(2)))
    alpaca.submit(OrderRequest("b", "SPY", BUY, qty=D("0.5")))
    server.prices["AAPL"] = D("200.00")
    aapl, spy = alpaca.positions()
    assert (aapl.symbol, aapl.qty, aapl.avg_entry_price, aapl.current_price) == ("AAPL", 2, D("190.01"), D(200))
    assert aapl.market_value == D("400.00") and aapl.currency == "USD"
    assert (spy.symbol, spy.qty) == ("SPY", D("0.5"))


def test_same_client_order_id_returns_the_existing_order(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    first = alpaca.submit(OrderRequest("dup", "AAPL", BUY, qty=D(2)))
    again = alpaca.submit(OrderRequest("dup", "AAPL", BUY, qty=D(2)))
    assert again == first
    assert len(server.orders) == 1 and len(server.calls("POST", "/v2/orders")) == 2
    assert server.positions["AAPL"][0] == 2
    # the ledger has since spent the cash it held for this order: a retry still finds the order
    assert alpaca.submit(OrderRequest("dup", "AAPL", BUY, qty=D(2)), buying_power=D(0)) == first
    assert len(server.calls("POST", "/v2/orders")) == 2
    with pytest.raises(OrderConflict):
        alpaca.submit(OrderRequest("dup", "AAPL", BUY, qty=D(5)))


def test_a_lost_response_is_retried_safely_with_the_same_id(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    server.lose_next_response()
    with pytest.raises(BrokerUnavailable):
        alpaca.submit(OrderRequest("lost", "AAPL", BUY, qty=D(1)))
    assert len(server.orders) == 1  # Alpaca took it; we never heard
    order = alpaca.submit(OrderRequest("lost", "AAPL", BUY, qty=D(1)))
    assert order.status is OrderStatus.FILLED and len(server.orders) == 1
    assert server.positions["AAPL"][0] == 1


def test_insufficient_buying_power_from_alpaca(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    server.cash = D(100)
    with pytest.raises(InsufficientBuyingPower) as caught:
        alpaca.submit(OrderRequest("bp", "AAPL", BUY, qty=D(1)))
    assert caught.value.available == D(100) and caught.value.required == D("190.01")
    assert server.orders == {}


def test_buying_power_given_by_the_ledger_is_checked_before_sending(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    with pytest.raises(InsufficientBuyingPower) as caught:
        alpaca.submit(OrderRequest("lbp", "AAPL", BUY, qty=D(10)), buying_power=D(1000))
    assert caught.value.required == 10 * (D("190.01") * D("1.05")).quantize(D("0.01"), "ROUND_CEILING")
    assert server.calls("POST", "/v2/orders") == []
    with pytest.raises(InsufficientBuyingPower):
        alpaca.submit(limit("lbl", BUY, "100.00", qty="3"), buying_power=D("299.99"))
    assert alpaca.submit(limit("ok", BUY, "100.00", qty="3"), buying_power=D(300)).status is OrderStatus.NEW


def test_no_short_selling(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    with pytest.raises(NoShortSelling) as caught:
        alpaca.submit(OrderRequest("s", "AAPL", SELL, qty=D(3)))
    assert (caught.value.requested, caught.value.available) == (D(3), D(0))
    alpaca.submit(OrderRequest("b", "AAPL", BUY, qty=D(2)))
    with pytest.raises(NoShortSelling):
        alpaca.submit(OrderRequest("s2", "AAPL", SELL, qty=D(3)))
    assert alpaca.submit(OrderRequest("s3", "AAPL", SELL, qty=D(2))).status is OrderStatus.FILLED
    assert alpaca.positions() == []


def test_errors_map_onto_the_port(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    with pytest.raises(UnknownSymbol):
        alpaca.submit(OrderRequest("u1", "NOPE", BUY, qty=D(1)))
    with pytest.raises(UnknownSymbol):
        alpaca.submit(OrderRequest("u2", "EQNR", BUY, qty=D(1)))  # Oslo: not on Alpaca
    with pytest.raises(InvalidOrder):
        alpaca.submit(limit("u3", BUY, "100.00", qty="0.5"))
    assert server.requests == []
    del server.instruments["MSFT"]
    with pytest.raises(UnknownSymbol):
        alpaca.submit(OrderRequest("u4", "MSFT", BUY, qty=D(1)))
    server.fail_next(422, 40010001, "qty must be > 0")
    with pytest.raises(InvalidOrder):
        alpaca.submit(OrderRequest("u5", "AAPL", BUY, qty=D(1)))
    server.fail_next(500, 50010000, "internal server error")
    with pytest.raises(BrokerUnavailable):
        alpaca.submit(OrderRequest("u6", "AAPL", BUY, qty=D(1)))
    with pytest.raises(OrderNotFound):
        alpaca.get_order("never")
    wrong = AlpacaBroker(api_key="bad", secret_key="bad", base_url=server.url, data_url=server.url)
    with pytest.raises(BrokerUnavailable):
        wrong.positions()
    assert server.orders == {}


def test_unreachable_alpaca_is_unavailable(server: AlpacaServer) -> None:
    url = server.url
    server.stop()
    broker = AlpacaBroker(api_key="k", secret_key="s", base_url=url, data_url=url, timeout=2)
    with pytest.raises(BrokerUnavailable):
        broker.open_orders()
    with pytest.raises(BrokerUnavailable):
        broker.quote("AAPL")


def test_price_bound_goes_out_as_a_marketable_limit(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    order = alpaca.submit(OrderRequest("pb", "AAPL", BUY, qty=D(2), price_bound=D("195.00")))
    body = server.calls("POST", "/v2/orders")[0].body
    assert (body["type"], body["limit_price"]) == ("limit", "195.00")
    assert order.status is OrderStatus.NEW
    server.match()
    assert alpaca.get_order("pb").fills[0].price == D("190.01")


def test_orders_while_closed_are_accepted_then_fill_at_the_open(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    server.market_open = False
    quote = alpaca.quote("AAPL")
    assert not quote.market_open and quote.next_open == datetime(2025, 3, 6, 14, 30, tzinfo=UTC)
    assert quote.bid == quote.ask == quote.last == D("190.00")  # the overnight book is empty
    order = alpaca.submit(OrderRequest("w", "AAPL", BUY, qty=D(1)))
    assert order.status is OrderStatus.ACCEPTED
    server.open_market()
    server.match()
    assert [o.status for o in alpaca.poll()] == [OrderStatus.FILLED]


def test_rejected_and_expired_orders(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    alpaca.submit(limit("r", BUY, "100.00"))
    alpaca.submit(limit("e", BUY, "100.00"))
    server.reject("r")
    server.expire("e")
    changed = {o.client_order_id: o for o in alpaca.poll()}
    assert changed["r"].status is OrderStatus.REJECTED and changed["r"].reject_reason
    assert changed["e"].status is OrderStatus.EXPIRED
    assert alpaca.open_orders() == []


def test_poll_reports_a_fill_even_when_submit_or_get_order_returned_it(
    alpaca: AlpacaBroker, server: AlpacaServer
) -> None:
    filled = alpaca.submit(OrderRequest("m", "AAPL", BUY, qty=D(1)))
    assert filled.status is OrderStatus.FILLED
    assert alpaca.get_order("m") == filled
    assert alpaca.poll() == [filled]
    assert alpaca.poll() == []


def test_poll_sees_orders_placed_by_another_process_once(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    other = AlpacaBroker(api_key="test-key", secret_key="test-secret", base_url=server.url, data_url=server.url)
    other.submit(limit("elsewhere", BUY, "150.00"))
    assert [o.client_order_id for o in alpaca.poll()] == ["elsewhere"]
    assert alpaca.poll() == []
    assert [o.client_order_id for o in alpaca.open_orders()] == ["elsewhere"]


def test_quote_from_market_data(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    server.prices["AAPL"] = D("201.37")
    q = alpaca.quote("AAPL")
    assert (q.bid, q.ask, q.last, q.currency) == (D("201.36"), D("201.38"), D("201.37"), "USD")
    assert q.market_open and q.next_open is None
    [snap] = server.calls("GET", "/v2/stocks/snapshots")
    assert snap.query == {"symbols": "AAPL", "feed": "iex"}


def test_price_history_pages_and_carries_closes_forward(alpaca: AlpacaBroker, server: AlpacaServer) -> None:
    server.bars_page_size = 4
    start = datetime(2025, 3, 7, 19, 0, tzinfo=UTC)  # Friday, two hours before the close
    points = alpaca.price_history("AAPL", start, start + timedelta(hours=6), timedelta(hours=1))
    assert [t for t, _ in points] == [start + timedelta(hours=h) for h in range(7)]
    assert points[2][1] == points[3][1] == points[6][1]  # 21:00 onwards: the 20:00 bar's close
    assert points[0][1] != points[1][1]
    assert len(server.calls("GET", "/v2/stocks/bars")) >= 1
    hourly = alpaca.price_history("AAPL", start, start + timedelta(days=3), timedelta(hours=1))
    assert len(server.calls("GET", "/v2/stocks/bars")) > 2 and len(hourly) == 73
