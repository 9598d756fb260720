"""Order rules every broker adapter checks before placing an order (as Alpaca states them)."""

from __future__ import annotations

from decimal import Decimal

from bot.broker import (
    PRICE_TICK,
    QTY_PLACES,
    InvalidOrder,
    OrderRequest,
    OrderSide,
    OrderType,
    TimeInForce,
)
from intents.directory import Instrument

MAX_CLIENT_ORDER_ID = 128
NOTIONAL_PLACES = 2
MIN_NOTIONAL = Decimal(1)


def places(value: Decimal) -> int:
    """How many decimals a Decimal carries (0 for integers, even written as 5.00)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def is_whole(value: Decimal) -> bool:
    """True for a whole number."""
    return value == value.to_integral_value()


def check_request(req: OrderRequest, instrument: Instrument) -> None:
    """Raise InvalidOrder unless the request is one the broker may place for this instrument."""
    if not req.client_order_id or len(req.client_order_id) > MAX_CLIENT_ORDER_ID:
        raise InvalidOrder(f"client_order_id must be 1 to {MAX_CLIENT_ORDER_ID} characters")
    for enum, value in ((OrderSide, req.side), (OrderType, req.type), (TimeInForce, req.time_in_force)):
        try:
            enum(value)
        except ValueError:
            raise InvalidOrder(f"{value!r} is not a valid {enum.__name__}") from None
    if (req.qty is None) == (req.notional is None):
        raise InvalidOrder("give exactly one of qty or notional")
    fractional = False
    if req.qty is not None:
        if not req.qty.is_finite() or req.qty <= 0:
            raise InvalidOrder("qty must be positive")
        if places(req.qty) > QTY_PLACES:
            raise InvalidOrder(f"qty has more than {QTY_PLACES} decimals")
        fractional = not is_whole(req.qty)
    if req.notional is not None:
        if not req.notional.is_finite() or req.notional < MIN_NOTIONAL:
            raise InvalidOrder(f"notional must be at least {MIN_NOTIONAL}")
        if places(req.notional) > NOTIONAL_PLACES:
            raise InvalidOrder(f"notional has more than {NOTIONAL_PLACES} decimals")
        fractional = True
    if fractional:
        if not instrument.fractionable:
            raise InvalidOrder(f"{instrument.symbol} trades in whole shares only")
        if req.type != OrderType.MARKET or req.time_in_force != TimeInForce.DAY:
            raise InvalidOrder("notional and fractional orders must be market DAY orders")
    if req.type == OrderType.LIMIT:
        if req.limit_price is None or not req.limit_price.is_finite() or req.limit_price <= 0:
            raise InvalidOrder("a limit order needs a positive limit_price")
        if req.limit_price % PRICE_TICK != 0:
            raise InvalidOrder(f"limit_price must be a multiple of {PRICE_TICK}")
        if req.price_bound is not None:
            raise InvalidOrder("price_bound is for market orders; a limit order has its limit")
    else:
        if req.limit_price is not None:
            raise InvalidOrder("a market order takes no limit_price")
        if req.price_bound is not None and (req.price_bound <= 0 or req.price_bound % PRICE_TICK):
            raise InvalidOrder(f"price_bound must be a positive multiple of {PRICE_TICK}")


def same_order(req: OrderRequest, symbol: str, side: OrderSide, qty: Decimal | None,
               notional: Decimal | None, limit_price: Decimal | None) -> bool:
    """True when an existing order is the one this request asks for (for idempotent submits)."""
    return (
        req.symbol.upper() == symbol
        and req.side == side
        and req.qty == qty
        and req.notional == notional
        and (req.type != OrderType.LIMIT or req.limit_price == limit_price)
    )
