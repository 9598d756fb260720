"""Alpaca as a Broker: alpaca-py's TradingClient (paper endpoint by default) behind the port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.requests import GetOrdersRequest
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.exceptions import RequestException

from adapters.brokerage import alpaca_mapping as mapping
from adapters.brokerage.alpaca_data import DATA_URL, AlpacaMarketData
from adapters.brokerage.rules import check_request, same_order
from bot.broker import (
    BrokerUnavailable,
    InsufficientBuyingPower,
    InvalidRequest,
    Order,
    OrderConflict,
    OrderNotFound,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    UnknownSymbol,
    max_cost,
)
from intents.directory import Instrument, InstrumentDirectory, load_directory

PAPER_URL = "https://paper-api.alpaca.markets"
MAX_HISTORY_POINTS = 10_000


class _TimeoutAdapter(HTTPAdapter):
    """requests gives no timeout by default; a broker call must not hang the bot."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        """Send with our timeout when the caller set none."""
        return super().send(request, stream, self.timeout if timeout is None else timeout, verify, cert, proxies)


class AlpacaBroker:
    """A Broker on Alpaca's trading API; quotes and history from its market-data API.

    The universe is the instrument directory's USD instruments (Alpaca trades US equities).
    Orders go out with `client_order_id` = our action's id; Alpaca refuses a second order with the
    same id, and we answer that with the existing order. A market order with a `price_bound` and a
    whole quantity goes out as a marketable limit order at the bound (Alpaca has no bound on a
    market order); fractional and notional orders go out as market orders, bounded only by
    Alpaca's own collar and, for notional buys, by the notional itself. `buying_power` is checked
    here before anything is sent, then Alpaca checks its own. Fills come from the account's FILL
    activities. `poll` compares open and followed orders with what the previous poll saw, so a
    fresh process sees every open order once; orders that closed while no process watched are
    found with `get_order`.
    """

    def __init__(
        self,
        *,
        api_key: str,
        secret_key: str,
        paper: bool = True,
        base_url: str | None = None,
        data_url: str | None = None,
        feed: str = "iex",
        directory: InstrumentDirectory | None = None,
        price_band_bps: int = 500,
        timeout: float = 10.0,
    ) -> None:
        url = (base_url or (PAPER_URL if paper else "")).rstrip("/").removesuffix("/v2") or None
        self._client = TradingClient(api_key, secret_key, paper=paper, url_override=url)
        session = self._client._session  # alpaca-py's requests session: give it a timeout
        session.mount("http://", _TimeoutAdapter(timeout))
        session.mount("https://", _TimeoutAdapter(timeout))
        self._data = AlpacaMarketData(api_key, secret_key, url=data_url or DATA_URL, feed=feed, timeout=timeout)
        self.directory = directory if directory is not None else load_directory()
        self.price_band_bps = price_band_bps
        self._polled: dict[str, tuple[str, Decimal, int] | None] = {}  # as the last poll saw them
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> AlpacaBroker:
        """Keys and URL from Settings (ALPACA_API_KEY, ALPACA_SECRET_KEY, ALPACA_BASE_URL)."""
        if not settings.alpaca_api_key or not settings.alpaca_secret_key:
            raise BrokerUnavailable("set ALPACA_API_KEY and ALPACA_SECRET_KEY in .env to trade on Alpaca")
        kwargs.setdefault("price_band_bps", settings.broker_price_band_bps)
        return cls(api_key=settings.alpaca_api_key, secret_key=settings.alpaca_secret_key,
                   base_url=settings.alpaca_base_url, **kwargs)

    def close(self) -> None:
        """Close both HTTP sessions."""
        self._client._session.close()
        self._data.close()

    # ---- the port ---------------------------------------------------------------------------

    def quote(self, symbol: str) -> Quote:
        """Latest quote and trade from market data; open/next open from the trading clock."""
        inst = self._instrument(symbol)
        with self._calls():
            clock = self._client.get_clock()
        assert not isinstance(clock, dict)
        snap = self._data.snapshot(inst.symbol)
        trade = snap.get("latestTrade") or {}
        book = snap.get("latestQuote") or {}
        last = mapping.dec(trade.get("p")) or mapping.dec((snap.get("minuteBar") or {}).get("c"))
        bid, ask = mapping.dec(book.get("bp")), mapping.dec(book.get("ap"))
        if last is None and bid and ask:
            last = (bid + ask) / 2
        if last is None:
            raise UnknownSymbol(symbol)
        return Quote(
            symbol=inst.symbol,
            bid=bid if bid else last,
            ask=ask if ask else last,
            last=last,
            currency=inst.currency,
            at=clock.timestamp,
            market_open=clock.is_open,
            next_open=None if clock.is_open else clock.next_open,
        )

    def submit(self, req: OrderRequest, *, buying_power: Decimal | None = None) -> Order:
        """Send the order, or answer with the existing one if Alpaca has seen this client_order_id."""
        inst = self._instrument(req.symbol)
        check_request(req, inst)
        if req.side == OrderSide.BUY and buying_power is not None:
            needs_quote = req.notional is None and req.type == OrderType.MARKET and req.price_bound is None
            quote = self.quote(inst.symbol) if needs_quote else None
            required = max_cost(req, quote, self.price_band_bps)
            if required > buying_power:
                # a retry of an order already placed is answered with it, whatever cash is left
                existing = self._existing(req)
                if existing is None:
                    raise InsufficientBuyingPower(required, buying_power)
                return existing
        body = _order_body(req, inst)
        try:
            with self._calls(symbol=inst.symbol, client_order_id=req.client_order_id, keep=(APIError,)):
                raw = self._client.post("/orders", body)
            assert isinstance(raw, dict)
        except APIError as exc:
            if not mapping.is_duplicate(exc):
                raise mapping.translate(exc, symbol=inst.symbol, client_order_id=req.client_order_id) from exc
            existing = self._existing(req)
            if existing is None:
                raise BrokerUnavailable(f"Alpaca calls {req.client_order_id!r} a duplicate but has no such order") from exc
            return existing
        return self._with_fills(AlpacaOrder(**raw))

    def _existing(self, req: OrderRequest) -> Order | None:
        """The order already placed under this client_order_id (OrderConflict if it is another order)."""
        try:
            existing = self.get_order(req.client_order_id)
        except OrderNotFound:
            return None
        if not same_order(req, existing.symbol, existing.side, existing.qty, existing.notional,
                          existing.limit_price):
            raise OrderConflict(f"client_order_id {req.client_order_id!r} is a different order")
        return existing

    def get_order(self, client_order_id: str) -> Order:
        """The order by our id, with its fills."""
        with self._calls(client_order_id=client_order_id):
            raw = self._client.get_order_by_client_id(client_order_id)
        return self._with_fills(raw)

    def cancel(self, client_order_id: str) -> Order:
        """Ask Alpaca to cancel; the answer may still be open (pending_cancel) until it confirms."""
        current = self.get_order(client_order_id)
        if not current.is_open:
            return current
        try:
            with self._calls(client_order_id=client_order_id, keep=(APIError,)):
                self._client.cancel_order_by_id(current.broker_order_id)
        except APIError as exc:
            if not mapping.is_not_cancelable(exc):
                raise mapping.translate(exc, client_order_id=client_order_id) from exc
        return self.get_order(client_order_id)

    def open_orders(self) -> list[Order]:
        """Alpaca's open orders, oldest first (fills not fetched)."""
        return [mapping.order(o) for o in self._open_raw()]

    def positions(self) -> list[Position]:
        """Alpaca's positions."""
        with self._calls():
            raw = self._client.get_all_positions()
        assert isinstance(raw, list)
        return sorted((mapping.position(p) for p in raw), key=lambda p: p.symbol)

    def poll(self) -> list[Order]:
        """Every order whose status, filled quantity or fills changed since the previous poll.

        Orders this adapter submitted, fetched or canceled are followed until a poll has seen
        them terminal with all their fills, so a fill that `submit` already returned is still
        reported here once; open orders placed elsewhere show up on first sight.
        """
        with self._lock:
            before = dict(self._polled)
        changed: list[Order] = []
        listed: set[str] = set()
        for raw in self._open_raw():
            order = mapping.order(raw)
            listed.add(order.client_order_id)
            last = before.get(order.client_order_id)
            if last is None or last[2] < 0 or last[:2] != (order.status.value, order.filled_qty):
                changed.append(self._with_fills(raw))
        for coid, last in sorted(before.items()):
            if coid in listed or (last is not None and not OrderStatus(last[0]).is_open and last[2] >= 0):
                continue
            order = self.get_order(coid)
            if last is None or (order.status.value, order.filled_qty, len(order.fills)) != last:
                changed.append(order)
        with self._lock:
            for order in changed:
                self._polled[order.client_order_id] = _snapshot(order)
        return changed

    def price_history(
        self, symbol: str, start: datetime, end: datetime, step: timedelta
    ) -> list[tuple[datetime, Decimal]]:
        """Bar closes on the step's grid, carried forward over closed hours; points before the first bar are left out."""
        inst = self._instrument(symbol)
        if step <= timedelta(0) or end < start:
            raise InvalidRequest("price history needs start <= end and a positive step")
        if (end - start) // step + 1 > MAX_HISTORY_POINTS:
            raise InvalidRequest(f"price history is limited to {MAX_HISTORY_POINTS} points")
        bars = self._data.bars(inst.symbol, start - step, end, step)
        points: list[tuple[datetime, Decimal]] = []
        i, last = 0, None
        at = start
        while at <= end:
            while i < len(bars) and bars[i][0] <= at:
                last = bars[i][1]
                i += 1
            if last is not None:
                points.append((at, last))
            at += step
        return points

    def buying_power(self) -> Decimal:
        """What Alpaca itself would let this account spend now."""
        with self._calls():
            account = self._client.get_account()
        assert not isinstance(account, dict)
        return mapping.dec(account.buying_power) or Decimal(0)

    # ---- inside -----------------------------------------------------------------------------

    def _instrument(self, symbol: str) -> Instrument:
        inst = self.directory.get(symbol)
        if inst is None or inst.currency != "USD":
            raise UnknownSymbol(symbol)
        return inst

    @contextmanager
    def _calls(self, *, symbol: str = "", client_order_id: str = "",
               keep: tuple[type[Exception], ...] = ()) -> Iterator[None]:
        """Turn alpaca-py and requests failures into the port's errors (except those in `keep`)."""
        try:
            yield
        except keep:
            raise
        except APIError as exc:
            raise mapping.translate(exc, symbol=symbol, client_order_id=client_order_id) from exc
        except RequestException as exc:
            raise BrokerUnavailable(f"Alpaca unreachable: {exc}") from exc

    def _open_raw(self) -> list[Any]:
        with self._calls():
            raw = self._client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500,
                                                           direction=Sort.ASC))
        assert isinstance(raw, list)
        return raw

    def _fills(self, broker_order_id: str, client_order_id: str) -> tuple[Any, ...]:
        params = {"order_id": broker_order_id, "direction": "asc", "page_size": 100}
        with self._calls(client_order_id=client_order_id):
            raw = self._client.get("/account/activities/FILL", params)
        rows = raw if isinstance(raw, list) else []
        return tuple(mapping.fill(r, client_order_id) for r in rows if str(r.get("order_id")) == broker_order_id)

    def _with_fills(self, raw: Any) -> Order:
        order = mapping.order(raw)
        if order.filled_qty > 0:
            order = mapping.order(raw, self._fills(order.broker_order_id, order.client_order_id))
        with self._lock:
            self._polled.setdefault(order.client_order_id, None)  # follow it from now on
        return order


def _snapshot(order: Order) -> tuple[str, Decimal, int]:
    """What poll compares: status, filled quantity, fill count (-1 while fills lag the figures)."""
    complete = sum((f.qty for f in order.fills), Decimal(0)) == order.filled_qty
    return order.status.value, order.filled_qty, len(order.fills) if complete else -1


def _order_body(req: OrderRequest, inst: Instrument) -> dict[str, Any]:
    """The POST /v2/orders body, numbers as strings so no float touches them."""
    body: dict[str, Any] = {
        "symbol": inst.symbol,
        "side": str(req.side),
        "type": str(req.type),
        "time_in_force": str(req.time_in_force),
        "client_order_id": req.client_order_id,
    }
    if req.qty is not None:
        body["qty"] = str(req.qty)
    if req.notional is not None:
        body["notional"] = str(req.notional)
    if req.type == OrderType.LIMIT:
        body["limit_price"] = str(req.limit_price)
    elif req.price_bound is not None and req.qty is not None and req.qty == req.qty.to_integral_value():
        body["type"] = str(OrderType.LIMIT)
        body["limit_price"] = str(req.price_bound)
    return body
