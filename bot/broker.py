"""The broker port: the orders, fills, quotes and positions the bot asks of any brokerage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Protocol

QTY_PLACES = 9
"""Quantities carry at most this many decimals (as Alpaca's)."""
PRICE_TICK = Decimal("0.01")
"""Limit prices and price bounds are whole multiples of this tick."""
BPS = Decimal(10_000)


class OrderSide(StrEnum):
    """Buy or sell."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Market (at the quote, within the price bound) or limit (at the limit price or better)."""

    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    """DAY orders expire at their session's close; GTC orders live until filled or canceled."""

    DAY = "day"
    GTC = "gtc"


class OrderStatus(StrEnum):
    """Where an order is in its life; the last four are terminal."""

    NEW = "new"  # live in the market
    ACCEPTED = "accepted"  # taken, waiting for the market to open
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        """True while the order may still fill."""
        return self in _OPEN


_OPEN = frozenset({OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})


@dataclass(frozen=True)
class Quote:
    """Bid, ask and last of one instrument at one instant; when closed, the last session's close."""

    symbol: str
    bid: Decimal
    ask: Decimal
    last: Decimal
    currency: str
    at: datetime
    market_open: bool
    next_open: datetime | None  # None while the market is open


@dataclass(frozen=True)
class OrderRequest:
    """What to trade: exactly one of qty or notional.

    Notional orders and fractional quantities are market DAY orders on fractionable instruments
    only (as Alpaca's). `price_bound` protects a market order: a buy never fills above it, a sell
    never below it; when None the broker sets ask*(1+band) (bid*(1-band) for sells) at submission.
    """

    client_order_id: str
    symbol: str
    side: OrderSide
    qty: Decimal | None = None
    notional: Decimal | None = None
    type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    price_bound: Decimal | None = None


@dataclass(frozen=True)
class Fill:
    """One execution of part of an order; `fill_id` is stable, so posting it twice can be refused."""

    fill_id: str
    client_order_id: str
    qty: Decimal
    price: Decimal
    at: datetime


@dataclass(frozen=True)
class Order:
    """An order as the broker sees it now.

    `filled_qty` and `filled_avg_price` are the broker's cumulative figures; `fills` lists the
    executions behind them (the paper broker always, Alpaca from its fill activities).
    """

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    time_in_force: TimeInForce
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    status: OrderStatus
    filled_qty: Decimal
    filled_avg_price: Decimal | None
    fills: tuple[Fill, ...]
    reject_reason: str | None
    submitted_at: datetime
    updated_at: datetime
    currency: str = ""
    price_bound: Decimal | None = None

    @property
    def is_open(self) -> bool:
        """True while the order may still fill."""
        return self.status.is_open

    @property
    def filled_cost(self) -> Decimal:
        """Exact sum of qty * price over the fills (unrounded)."""
        return sum((f.qty * f.price for f in self.fills), Decimal(0))


@dataclass(frozen=True)
class Position:
    """Shares held in one instrument, valued at the last price."""

    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    market_value: Decimal
    currency: str
    current_price: Decimal


class BrokerError(Exception):
    """Base of every broker failure; `code` names it (snake_case, stable)."""

    code = "broker_error"


class InvalidRequest(BrokerError):
    """A request the broker cannot take as asked (bad range, bad arguments)."""

    code = "invalid_request"


class UnknownSymbol(InvalidRequest):
    """The symbol is not in the broker's universe."""

    code = "unknown_symbol"

    def __init__(self, symbol: str) -> None:
        super().__init__(f"unknown symbol {symbol!r}")
        self.symbol = symbol


class InvalidOrder(InvalidRequest):
    """The order breaks a rule (qty and notional, fractions, limit price, time in force)."""

    code = "invalid_order"


class InsufficientBuyingPower(BrokerError):
    """A buy would cost more than the buying power given."""

    code = "insufficient_buying_power"

    def __init__(self, required: Decimal, available: Decimal) -> None:
        super().__init__(f"order needs {required}, buying power is {available}")
        self.required = required
        self.available = available


class NoShortSelling(BrokerError):
    """A sell for more than is held (less what open sells already hold)."""

    code = "no_short_selling"

    def __init__(self, symbol: str, requested: Decimal, available: Decimal) -> None:
        super().__init__(f"sell {requested} {symbol}: only {available} available")
        self.symbol = symbol
        self.requested = requested
        self.available = available


class OrderNotFound(BrokerError):
    """No order has this client_order_id."""

    code = "order_not_found"

    def __init__(self, client_order_id: str) -> None:
        super().__init__(f"no order {client_order_id!r}")
        self.client_order_id = client_order_id


class OrderConflict(BrokerError):
    """The client_order_id is taken by a different order (other symbol, side or size)."""

    code = "exists_with_different_order"


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or refused our credentials; retry with the same id."""

    code = "broker_unavailable"


class Broker(Protocol):
    """A brokerage: quotes, idempotent orders, positions and price history.

    The cash lives on our ledger, so `submit` takes the caller's `buying_power` (cash available
    for this order, already net of other reservations); buys whose `max_cost` exceeds it raise
    InsufficientBuyingPower, None skips the check. Sells are checked against the position.
    """

    def quote(self, symbol: str) -> Quote:
        """The current quote (UnknownSymbol if not tradable here)."""
        ...

    def submit(self, req: OrderRequest, *, buying_power: Decimal | None = None) -> Order:
        """Place an order; an existing client_order_id returns that order and places nothing."""
        ...

    def get_order(self, client_order_id: str) -> Order:
        """The order now (OrderNotFound if unknown)."""
        ...

    def cancel(self, client_order_id: str) -> Order:
        """Cancel what is unfilled; a terminal order is returned unchanged."""
        ...

    def open_orders(self) -> list[Order]:
        """Orders that may still fill."""
        ...

    def positions(self) -> list[Position]:
        """Every non-zero holding."""
        ...

    def poll(self) -> list[Order]:
        """Advance to the clock's now; every order changed since the previous poll (fills, expiry).

        Changes that submit, get_order or cancel already returned are reported here too, so a
        poll loop that posts fills by fill_id misses nothing.
        """
        ...

    def price_history(
        self, symbol: str, start: datetime, end: datetime, step: timedelta
    ) -> list[tuple[datetime, Decimal]]:
        """Last prices from start to end (inclusive) every step, for charts."""
        ...


def price_bound(side: OrderSide, quote: Quote, band_bps: int) -> Decimal:
    """The protective price of a market order: ask*(1+band) up for buys, bid*(1-band) down for sells."""
    if side == OrderSide.BUY:
        raw = quote.ask * (BPS + band_bps) / BPS
        return raw.quantize(PRICE_TICK, rounding=ROUND_CEILING)
    raw = quote.bid * (BPS - band_bps) / BPS
    return max(raw.quantize(PRICE_TICK, rounding=ROUND_FLOOR), PRICE_TICK)


def max_cost(req: OrderRequest, quote: Quote | None, band_bps: int) -> Decimal:
    """The most a buy can cost (notional, qty*limit or qty*price bound), exact: round up to reserve.

    The quote is needed only for a market order by quantity without its own price_bound.
    """
    if req.notional is not None:
        return req.notional
    if req.qty is None:
        raise InvalidOrder("give exactly one of qty or notional")
    if req.type == OrderType.LIMIT:
        if req.limit_price is None:
            raise InvalidOrder("a limit order needs a positive limit_price")
        return req.qty * req.limit_price
    if req.price_bound is not None:
        return req.qty * req.price_bound
    if quote is None:
        raise ValueError("a market order without a price_bound needs a quote to bound it")
    return req.qty * price_bound(req.side, quote, band_bps)
