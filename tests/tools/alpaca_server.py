"""Alpaca's trading and market-data APIs on loopback for tests: Alpaca's JSON, deterministic fills, recorded requests."""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from intents.directory import InstrumentDirectory, load_directory

JSON = dict[str, Any]
QTY_STEP = Decimal("1e-9")
_NS = uuid.UUID("0c6f1f2e-8d7a-4a43-9a0e-5b1f8f6d2c10")
_EXCHANGE = {"XNAS": "NASDAQ", "ARCX": "ARCA", "XNYS": "NYSE"}
_OPEN = ("new", "accepted", "partially_filled", "pending_new")
_NUMBER = re.compile(r'"@@(-?[0-9.]+)@@"')


class AlpacaError(Exception):
    """An error answered in Alpaca's shape: an HTTP status and `{"code": ..., "message": ...}`."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: JSON = {"code": code, "message": message, **extra}


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class FakeOrder:
    """An order on the server, with Decimals; rendered as Alpaca's order object."""

    id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    status: str
    created_at: datetime
    updated_at: datetime
    filled_qty: Decimal = Decimal(0)
    filled_cost: Decimal = Decimal(0)
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None
    asset_id: str = ""
    extra: JSON = field(default_factory=dict)


def iso(at: datetime | None) -> str | None:
    """Alpaca's timestamp format: UTC with a Z and nanoseconds."""
    if at is None:
        return None
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dumps(obj: Any) -> str:
    """JSON with Decimals as JSON numbers (market data) without going through float."""
    return _NUMBER.sub(r"\1", json.dumps(obj, default=lambda d: f"@@{d}@@"))


class AlpacaServer:
    """A threaded HTTP server answering the endpoints the Alpaca adapter uses.

    Trading: /v2/account, /v2/clock, /v2/orders (POST, GET list), /v2/orders/{id} (GET, DELETE),
    /v2/orders:by_client_order_id, /v2/positions, /v2/account/activities/FILL. Market data:
    /v2/stocks/snapshots and /v2/stocks/bars (numbers as JSON numbers, as Alpaca sends them).
    Market orders fill at the ask (buys) or bid (sells) on submit while the market is open
    (`fill_on_submit`); `match()` fills what is marketable at the current prices, at most
    `max_fill_qty` per order per call; `fill()`, `expire()` and `reject()` drive single orders.
    """

    def __init__(self, *, key: str = "test-key", secret: str = "test-secret", cash: Decimal = Decimal(100_000),
                 directory: InstrumentDirectory | None = None,
                 now: datetime = datetime(2025, 3, 5, 15, 0, tzinfo=UTC)) -> None:
        self.key, self.secret = key, secret
        self.now = now
        self.market_open = True
        self.next_open = datetime(2025, 3, 6, 14, 30, tzinfo=UTC)
        self.next_close = datetime(2025, 3, 5, 21, 0, tzinfo=UTC)
        self.cash = cash
        directory = directory if directory is not None else load_directory()
        self.instruments = {i.symbol: i for i in directory if i.currency == "USD"}
        self.prices = {s: i.reference_price for s, i in self.instruments.items()}
        self.half_spread = Decimal("0.01")
        self.fill_on_submit = True
        self.max_fill_qty: Decimal | None = None
        self.bars_page_size = 1000
        self.orders: dict[str, FakeOrder] = {}
        self.positions: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (qty, cost)
        self.activities: list[JSON] = []
        self.requests: list[Recorded] = []
        self._faults: list[tuple[int, AlpacaError | str]] = []  # (requests to let through first, fault)
        self._lock = threading.RLock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ---- running ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL (no /v2), for TradingClient's url_override and the data client."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> AlpacaServer:
        """Serve on a background thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> AlpacaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- what tests drive -------------------------------------------------------------------

    def bid_ask(self, symbol: str) -> tuple[Decimal, Decimal]:
        """The current bid and ask around the last price."""
        last = self.prices[symbol]
        return last - self.half_spread, last + self.half_spread

    def fail_next(self, status: int, code: int, message: str, *, after: int = 0, **extra: Any) -> None:
        """Answer a coming request (the next, or the one after `after` others) with this error."""
        with self._lock:
            self._faults.append((after, AlpacaError(status, code, message, **extra)))

    def lose_next_response(self, *, after: int = 0) -> None:
        """Handle a coming request, then hang up without answering (a lost response)."""
        with self._lock:
            self._faults.append((after, "lose"))

    def calls(self, method: str, path: str) -> list[Recorded]:
        """Recorded requests with this method and path."""
        return [r for r in self.requests if r.method == method and r.path == path]

    def open_market(self) -> None:
        """Open the market: accepted orders become new."""
        with self._lock:
            self.market_open = True
            for o in self.orders.values():
                if o.status == "accepted":
                    o.status, o.updated_at = "new", self.now

    def match(self) -> None:
        """Fill every open order marketable at the current prices (up to max_fill_qty each)."""
        with self._lock:
            if not self.market_open:
                return
            for o in self.orders.values():
                if o.status in _OPEN:
                    self._try_fill(o)

    def fill(self, client_order_id: str, qty: Decimal, price: Decimal) -> None:
        """Fill part of one order at a price."""
        with self._lock:
            o = self._by_client(client_order_id)
            self._execute(o, qty, price)

    def expire(self, client_order_id: str) -> None:
        """Expire an open order (as at the close for DAY orders)."""
        with self._lock:
            o = self._by_client(client_order_id)
            o.status, o.expired_at, o.updated_at = "expired", self.now, self.now

    def reject(self, client_order_id: str) -> None:
        """Reject an order after acceptance."""
        with self._lock:
            o = self._by_client(client_order_id)
            o.status, o.failed_at, o.updated_at = "rejected", self.now, self.now

    # ---- the API ----------------------------------------------------------------------------

    def handle(self, method: str, target: str, body: Any, headers: dict[str, str]) -> tuple[int, Any, bool]:
        """Answer one request: (status, JSON body or None, whether to hang up instead)."""
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests.append(Recorded(method, parts.path, query, body, headers))
            fault: AlpacaError | str | None = None
            if self._faults:
                wait, pending = self._faults[0]
                if wait == 0:
                    fault = pending
                    self._faults.pop(0)
                else:
                    self._faults[0] = (wait - 1, pending)
            if isinstance(fault, AlpacaError):
                return fault.status, fault.body, False
            try:
                if headers.get("apca-api-key-id") != self.key or headers.get("apca-api-secret-key") != self.secret:
                    raise AlpacaError(401, 40110000, "request is not authorized")
                status, answer = self._route(method, parts.path, query, body)
            except AlpacaError as exc:
                status, answer = exc.status, exc.body
            return status, answer, fault == "lose"

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/v2/account":
            return 200, self._account()
        if method == "GET" and path == "/v2/clock":
            return 200, {"timestamp": iso(self.now), "is_open": self.market_open,
                         "next_open": iso(self.next_open), "next_close": iso(self.next_close)}
        if method == "POST" and path == "/v2/orders":
            return 200, self._order_json(self._submit(body))
        if method == "GET" and path == "/v2/orders":
            return 200, self._list(query)
        if method == "GET" and path == "/v2/orders:by_client_order_id":
            return 200, self._order_json(self._by_client(query.get("client_order_id", "")))
        m = re.fullmatch(r"/v2/orders/([^/]+)", path)
        if m and method == "GET":
            return 200, self._order_json(self._by_id(m.group(1)))
        if m and method == "DELETE":
            self._cancel(self._by_id(m.group(1)))
            return 204, None
        if method == "GET" and path == "/v2/positions":
            return 200, [self._position_json(s) for s in sorted(self.positions)]
        m = re.fullmatch(r"/v2/positions/([^/]+)", path)
        if m and method == "GET":
            if m.group(1) not in self.positions:
                raise AlpacaError(404, 40410000, "position does not exist")
            return 200, self._position_json(m.group(1))
        if method == "GET" and path == "/v2/account/activities/FILL":
            rows = [a for a in self.activities if not query.get("order_id") or a["order_id"] == query["order_id"]]
            return 200, rows if query.get("direction") == "asc" else list(reversed(rows))
        if method == "GET" and path == "/v2/stocks/snapshots":
            symbols = [s for s in query.get("symbols", "").split(",") if s in self.prices]
            return 200, {s: self._snapshot(s) for s in symbols}
        if method == "GET" and path == "/v2/stocks/bars":
            return 200, self._bars(query)
        raise AlpacaError(404, 40410000, "endpoint not found")

    # ---- orders -----------------------------------------------------------------------------

    def _by_client(self, client_order_id: str) -> FakeOrder:
        for o in self.orders.values():
            if o.client_order_id == client_order_id:
                return o
        raise AlpacaError(404, 40410000, "order not found")

    def _by_id(self, order_id: str) -> FakeOrder:
        try:
            uuid.UUID(order_id)
        except ValueError:
            raise AlpacaError(422, 40010001, "order_id is missing") from None
        if order_id not in self.orders:
            raise AlpacaError(404, 40410000, "order not found")
        return self.orders[order_id]

    def _held_for_sells(self, symbol: str) -> Decimal:
        held = Decimal(0)
        for o in self.orders.values():
            if o.symbol == symbol and o.side == "sell" and o.status in _OPEN:
                if o.qty is not None:
                    held += o.qty - o.filled_qty
                else:
                    assert o.notional is not None
                    held += (o.notional - o.filled_cost) / self.bid_ask(symbol)[0]
        return held

    def _reserved_for_buys(self) -> Decimal:
        total = Decimal(0)
        for o in self.orders.values():
            if o.side == "buy" and o.status in _OPEN:
                total += self._estimate(o.symbol, o.qty, o.notional, o.limit_price) - o.filled_cost
        return total

    def _estimate(self, symbol: str, qty: Decimal | None, notional: Decimal | None, limit: Decimal | None) -> Decimal:
        if notional is not None:
            return notional
        assert qty is not None
        return qty * (limit if limit is not None else self.bid_ask(symbol)[1])

    def _submit(self, body: Any) -> FakeOrder:
        if not isinstance(body, dict):
            raise AlpacaError(400, 40010000, "request body format is invalid")
        coid = str(body.get("client_order_id") or uuid.uuid4())
        if any(o.client_order_id == coid for o in self.orders.values()):
            raise AlpacaError(422, 40010001, "client_order_id must be unique")
        symbol = str(body.get("symbol", "")).upper()
        if symbol not in self.instruments:
            raise AlpacaError(422, 40010001, f'asset "{symbol}" not found')
        side, kind, tif = body.get("side"), body.get("type"), body.get("time_in_force")
        if side not in ("buy", "sell"):
            raise AlpacaError(422, 40010001, "invalid side")
        if kind not in ("market", "limit"):
            raise AlpacaError(422, 40010001, "invalid order type")
        if tif not in ("day", "gtc", "opg", "cls", "ioc", "fok"):
            raise AlpacaError(422, 40010001, "invalid time_in_force")
        qty = Decimal(str(body["qty"])) if body.get("qty") is not None else None
        notional = Decimal(str(body["notional"])) if body.get("notional") is not None else None
        limit = Decimal(str(body["limit_price"])) if body.get("limit_price") is not None else None
        if (qty is None) == (notional is None):
            raise AlpacaError(422, 40010001, "qty or notional is required, not both")
        fractional = notional is not None or (qty is not None and qty != qty.to_integral_value())
        if fractional and (kind != "market" or tif != "day"):
            raise AlpacaError(422, 40010001, "fractional orders must be market orders with time_in_force day")
        if fractional and not self.instruments[symbol].fractionable:
            raise AlpacaError(422, 40010001, f"asset {symbol} is not fractionable")
        if kind == "limit" and limit is None:
            raise AlpacaError(422, 40010001, "limit_price is required for limit orders")
        if side == "sell":
            held = self.positions.get(symbol, (Decimal(0), Decimal(0)))[0]
            available = held - self._held_for_sells(symbol)
            wanted = qty if qty is not None else (notional or Decimal(0)) / self.bid_ask(symbol)[0]
            if wanted > available:
                raise AlpacaError(
                    403, 40310000,
                    f"insufficient qty available for order (requested: {wanted}, available: {available})",
                    available=str(available), existing_qty=str(held),
                    held_for_orders=str(held - available), symbol=symbol,
                )
        else:
            cost = self._estimate(symbol, qty, notional, limit)
            power = self.cash - self._reserved_for_buys()
            if cost > power:
                raise AlpacaError(403, 40310000, "insufficient buying power",
                                  buying_power=str(power), cost_basis=str(cost))
        order = FakeOrder(
            id=str(uuid.uuid5(_NS, coid)), client_order_id=coid, symbol=symbol, side=side, type=kind,
            time_in_force=tif, qty=qty, notional=notional, limit_price=limit,
            status="new" if self.market_open else "accepted", created_at=self.now, updated_at=self.now,
            asset_id=str(uuid.uuid5(_NS, symbol)),
        )
        self.orders[order.id] = order
        if self.market_open and self.fill_on_submit and kind == "market":
            self._try_fill(order)
        return order

    def _try_fill(self, o: FakeOrder) -> None:
        bid, ask = self.bid_ask(o.symbol)
        price = ask if o.side == "buy" else bid
        if o.limit_price is not None and (price > o.limit_price if o.side == "buy" else price < o.limit_price):
            return
        if o.qty is not None:
            qty = o.qty - o.filled_qty
        else:
            assert o.notional is not None
            qty = ((o.notional - o.filled_cost) / price).quantize(QTY_STEP, ROUND_DOWN)
        if self.max_fill_qty is not None:
            qty = min(qty, self.max_fill_qty)
        if qty > 0:
            self._execute(o, qty, price)

    def _execute(self, o: FakeOrder, qty: Decimal, price: Decimal) -> None:
        o.filled_qty += qty
        o.filled_cost += qty * price
        whole = o.qty if o.qty is not None else o.filled_qty
        done = o.filled_qty >= whole if o.qty is not None else (
            ((o.notional or Decimal(0)) - o.filled_cost) / price).quantize(QTY_STEP, ROUND_DOWN) <= 0
        o.status = "filled" if done else "partially_filled"
        o.updated_at = self.now
        if done:
            o.filled_at = self.now
        held, cost = self.positions.get(o.symbol, (Decimal(0), Decimal(0)))
        if o.side == "buy":
            held, cost = held + qty, cost + qty * price
            self.cash -= qty * price
        else:
            cost = cost - cost * qty / held
            held -= qty
            self.cash += qty * price
        if held > 0:
            self.positions[o.symbol] = (held, cost)
        else:
            self.positions.pop(o.symbol, None)
        stamp = self.now.strftime("%Y%m%d%H%M%S%f")[:17]
        self.activities.append({
            "id": f"{stamp}::{uuid.uuid5(_NS, f'{o.id}/{len(self.activities)}')}",
            "activity_type": "FILL",
            "transaction_time": iso(self.now),
            "type": "fill" if done else "partial_fill",
            "price": str(price),
            "qty": str(qty),
            "side": o.side,
            "symbol": o.symbol,
            "leaves_qty": str(whole - o.filled_qty) if o.qty is not None else "0",
            "order_id": o.id,
            "cum_qty": str(o.filled_qty),
            "order_status": o.status,
        })

    def _cancel(self, o: FakeOrder) -> None:
        if o.status not in _OPEN:
            raise AlpacaError(422, 42210000, f'order is already in "{o.status}" state')
        o.status, o.canceled_at, o.updated_at = "canceled", self.now, self.now

    def _list(self, query: dict[str, str]) -> list[JSON]:
        wanted = query.get("status", "open")
        rows = [o for o in self.orders.values()
                if wanted == "all" or (o.status in _OPEN) == (wanted == "open")]
        rows.sort(key=lambda o: o.created_at, reverse=query.get("direction", "desc") == "desc")
        return [self._order_json(o) for o in rows[: int(query.get("limit", 50))]]

    def _order_json(self, o: FakeOrder) -> JSON:
        avg = (o.filled_cost / o.filled_qty).quantize(Decimal("0.0001")) if o.filled_qty else None
        return {
            "id": o.id, "client_order_id": o.client_order_id,
            "created_at": iso(o.created_at), "updated_at": iso(o.updated_at), "submitted_at": iso(o.created_at),
            "filled_at": iso(o.filled_at), "expired_at": iso(o.expired_at), "canceled_at": iso(o.canceled_at),
            "failed_at": iso(o.failed_at), "replaced_at": None, "replaced_by": None, "replaces": None,
            "asset_id": o.asset_id, "symbol": o.symbol, "asset_class": "us_equity",
            "notional": _s(o.notional), "qty": _s(o.qty), "filled_qty": str(o.filled_qty),
            "filled_avg_price": _s(avg), "order_class": "", "order_type": o.type, "type": o.type,
            "side": o.side, "position_intent": "buy_to_open" if o.side == "buy" else "sell_to_close",
            "time_in_force": o.time_in_force, "limit_price": _s(o.limit_price), "stop_price": None,
            "status": o.status, "extended_hours": False, "legs": None, "trail_percent": None,
            "trail_price": None, "hwm": None, "subtag": None, "source": None, "expires_at": None,
        }

    # ---- account, positions, data -----------------------------------------------------------

    def _position_json(self, symbol: str) -> JSON:
        qty, cost = self.positions[symbol]
        last = self.prices[symbol]
        value = qty * last
        inst = self.instruments[symbol]
        return {
            "asset_id": str(uuid.uuid5(_NS, symbol)), "symbol": symbol,
            "exchange": _EXCHANGE.get(inst.exchange, "NASDAQ"), "asset_class": "us_equity",
            "asset_marginable": True, "qty": str(qty), "avg_entry_price": str((cost / qty).quantize(Decimal("0.0001"))),
            "side": "long", "market_value": str(value.quantize(Decimal("0.01"))), "cost_basis": str(cost),
            "unrealized_pl": str(value - cost), "unrealized_plpc": "0", "unrealized_intraday_pl": "0",
            "unrealized_intraday_plpc": "0", "current_price": str(last), "lastday_price": str(last),
            "change_today": "0", "qty_available": str(qty - self._held_for_sells(symbol)),
        }

    def _account(self) -> JSON:
        power = self.cash - self._reserved_for_buys()
        long_value = sum((q * self.prices[s] for s, (q, _) in self.positions.items()), Decimal(0))
        equity = self.cash + long_value
        money = {k: str(v) for k, v in {
            "buying_power": power, "regt_buying_power": power, "non_marginable_buying_power": power,
            "options_buying_power": power, "cash": self.cash, "portfolio_value": equity, "equity": equity,
            "last_equity": equity, "long_market_value": long_value,
        }.items()}
        return {
            "id": str(uuid.uuid5(_NS, "account")), "account_number": "PA3TESTFINBOT", "status": "ACTIVE",
            "crypto_status": "ACTIVE", "currency": "USD", "accrued_fees": "0", "pending_transfer_in": "0",
            "pending_transfer_out": "0", "pattern_day_trader": False, "trading_blocked": False,
            "transfers_blocked": False, "account_blocked": False, "created_at": iso(datetime(2024, 1, 2, tzinfo=UTC)),
            "trade_suspended_by_user": False, "multiplier": "1", "shorting_enabled": False,
            "short_market_value": "0", "initial_margin": "0", "maintenance_margin": "0",
            "last_maintenance_margin": "0", "sma": "0", "daytrade_count": 0, "options_approved_level": 0,
            "options_trading_level": 0, **money,
        }

    def _snapshot(self, symbol: str) -> JSON:
        bid, ask = self.bid_ask(symbol)
        if not self.market_open:  # the IEX book is empty overnight
            bid = ask = Decimal(0)
        last = self.prices[symbol]
        bar = {"t": iso(self.now.replace(second=0, microsecond=0)), "o": last, "h": last, "l": last, "c": last,
               "v": 100, "n": 3, "vw": last}
        return {
            "latestTrade": {"t": iso(self.now), "x": "V", "p": last, "s": 100, "c": ["@"], "i": 1, "z": "C"},
            "latestQuote": {"t": iso(self.now), "ax": "V", "ap": ask, "as": 2, "bx": "V", "bp": bid, "bs": 3,
                            "c": ["R"], "z": "C"},
            "minuteBar": bar, "dailyBar": bar, "prevDailyBar": bar,
        }

    def _bars(self, query: dict[str, str]) -> JSON:
        symbol = query.get("symbols", "")
        m = re.fullmatch(r"(\d+)(Min|Hour|Day)", query.get("timeframe", ""))
        if not m or symbol not in self.prices:
            raise AlpacaError(400, 40010001, "invalid timeframe or symbol")
        unit = {"Min": timedelta(minutes=1), "Hour": timedelta(hours=1), "Day": timedelta(days=1)}[m.group(2)]
        step = int(m.group(1)) * unit
        start = datetime.fromisoformat(query["start"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(query["end"].replace("Z", "+00:00"))
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        at = epoch + -(-(start - epoch) // step) * step
        bars = []
        while at <= end:
            trading = at.weekday() < 5 and (unit == timedelta(days=1) or 14 * 60 + 30 <= at.hour * 60 + at.minute < 21 * 60)
            if trading:
                n = int((at - epoch) // step)
                close = self.prices[symbol] + Decimal((n * 37) % 11 - 5) / 10
                bars.append({"t": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "o": close, "h": close, "l": close,
                             "c": close, "v": 1000, "n": 10, "vw": close})
            at += step
        offset = int(query.get("page_token") or 0)
        size = min(int(query.get("limit") or 1000), self.bars_page_size)
        page = bars[offset: offset + size]
        token = str(offset + size) if offset + size < len(bars) else None
        return {"bars": {symbol: page}, "next_page_token": token}


def _handler(server: AlpacaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer, hang_up = server.handle(method, self.path, body, headers)
            if hang_up:
                self.close_connection = True
                return
            data = b"" if answer is None else _dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._serve("DELETE")

        def do_PATCH(self) -> None:  # noqa: N802
            self._serve("PATCH")

    return Handler
