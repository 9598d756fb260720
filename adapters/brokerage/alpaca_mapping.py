"""Alpaca's orders, positions, fills and errors translated into the broker port's types."""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.broker import (
    BrokerError,
    BrokerUnavailable,
    Fill,
    InsufficientBuyingPower,
    InvalidOrder,
    NoShortSelling,
    Order,
    OrderNotFound,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
    UnknownSymbol,
)

_FRACTION = re.compile(r"\.(\d{6})\d+")
_REQUESTED = re.compile(r"requested:\s*([0-9.]+)")

# Alpaca's statuses, as open or terminal as they are; the open ones that say nothing of fills
# become NEW, or PARTIALLY_FILLED once something has filled (decided in `status`).
_STATUS = {
    "new": OrderStatus.NEW,
    "pending_new": OrderStatus.NEW,
    "accepted_for_bidding": OrderStatus.NEW,
    "held": OrderStatus.NEW,
    "stopped": OrderStatus.NEW,
    "pending_cancel": OrderStatus.NEW,
    "pending_replace": OrderStatus.NEW,
    "pending_review": OrderStatus.ACCEPTED,
    "accepted": OrderStatus.ACCEPTED,
    "done_for_day": OrderStatus.ACCEPTED,
    "suspended": OrderStatus.ACCEPTED,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "calculated": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "replaced": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def parse_time(value: Any) -> datetime:
    """An Alpaca timestamp (RFC 3339, up to nanoseconds, or a datetime) as an aware datetime."""
    if isinstance(value, datetime):
        return value
    text = _FRACTION.sub(lambda m: "." + m.group(1), str(value)).replace("Z", "+00:00")
    return datetime.fromisoformat(text)


def dec(value: Any) -> Decimal | None:
    """A Decimal from Alpaca's string (or number) field; None for null or empty."""
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _value(field: Any) -> str:
    return str(getattr(field, "value", field))


def status(alpaca_status: str, filled_qty: Decimal, qty: Decimal | None) -> OrderStatus:
    """The port's status for an Alpaca status and the quantity filled so far."""
    mapped = _STATUS.get(alpaca_status, OrderStatus.ACCEPTED)
    if mapped is OrderStatus.FILLED and qty is not None and filled_qty < qty:
        return OrderStatus.PARTIALLY_FILLED
    if mapped in (OrderStatus.NEW, OrderStatus.ACCEPTED) and filled_qty > 0:
        return OrderStatus.PARTIALLY_FILLED
    return mapped


def order(raw: Any, fills: tuple[Fill, ...] = ()) -> Order:
    """An alpaca-py Order model (or its JSON dict) as a port Order."""
    def get(key: str) -> Any:
        return raw.get(key) if isinstance(raw, dict) else getattr(raw, key, None)

    qty = dec(get("qty"))
    filled = dec(get("filled_qty")) or Decimal(0)
    alpaca_status = _value(get("status"))
    mapped = status(alpaca_status, filled, qty)
    return Order(
        client_order_id=str(get("client_order_id")),
        broker_order_id=str(get("id")),
        symbol=str(get("symbol")),
        side=OrderSide(_value(get("side"))),
        type=OrderType(_value(get("type") or get("order_type"))),
        time_in_force=TimeInForce(_value(get("time_in_force"))),
        qty=qty,
        notional=dec(get("notional")),
        limit_price=dec(get("limit_price")),
        status=mapped,
        filled_qty=filled,
        filled_avg_price=dec(get("filled_avg_price")) if filled else None,
        fills=fills,
        reject_reason=f"Alpaca: {alpaca_status}" if mapped is OrderStatus.REJECTED else None,
        submitted_at=parse_time(get("submitted_at") or get("created_at")),
        updated_at=parse_time(get("updated_at") or get("created_at")),
        currency="USD",
    )


def fill(raw: dict[str, Any], client_order_id: str) -> Fill:
    """One FILL account activity as a port Fill."""
    return Fill(
        fill_id=str(raw["id"]),
        client_order_id=client_order_id,
        qty=Decimal(str(raw["qty"])),
        price=Decimal(str(raw["price"])),
        at=parse_time(raw["transaction_time"]),
    )


def position(raw: Any) -> Position:
    """An alpaca-py Position model as a port Position."""
    qty = Decimal(str(raw.qty))
    current = dec(raw.current_price)
    avg = Decimal(str(raw.avg_entry_price))
    market_value = dec(raw.market_value)
    return Position(
        symbol=str(raw.symbol),
        qty=qty,
        avg_entry_price=avg,
        market_value=market_value if market_value is not None else qty * (current or avg),
        currency="USD",
        current_price=current if current is not None else avg,
    )


def error_body(exc: Any) -> tuple[int | None, int | None, str, dict[str, Any]]:
    """(HTTP status, Alpaca code, message, whole body) of an alpaca-py APIError."""
    http = getattr(exc, "status_code", None)
    try:
        body = json.loads(str(exc))
    except ValueError:
        return http, None, str(exc), {}
    if not isinstance(body, dict):
        return http, None, str(exc), {}
    code = body.get("code")
    return http, code if isinstance(code, int) else None, str(body.get("message", "")), body


def is_duplicate(exc: Any) -> bool:
    """True for Alpaca's answer to a client_order_id it has seen."""
    http, _, message, _ = error_body(exc)
    return http == 422 and "client_order_id must be unique" in message


def is_not_cancelable(exc: Any) -> bool:
    """True when a cancel found the order already done (filled, canceled, expired)."""
    http, _, message, _ = error_body(exc)
    return http == 422 and ("already in" in message or "not cancelable" in message)


def translate(exc: Any, *, symbol: str = "", client_order_id: str = "") -> BrokerError:
    """The port's typed error for an alpaca-py APIError."""
    http, _, message, body = error_body(exc)
    lowered = message.lower()
    if http == 403 and "buying power" in lowered:
        return InsufficientBuyingPower(dec(body.get("cost_basis")) or Decimal(0),
                                       dec(body.get("buying_power")) or Decimal(0))
    if http == 403 and ("insufficient qty" in lowered or "short" in lowered):
        requested = _REQUESTED.search(message)
        return NoShortSelling(symbol or str(body.get("symbol", "")),
                              Decimal(requested.group(1)) if requested else Decimal(0),
                              dec(body.get("available")) or Decimal(0))
    if http == 404:
        return OrderNotFound(client_order_id)
    if http == 422 and "asset" in lowered and ("not found" in lowered or "could not find" in lowered):
        return UnknownSymbol(symbol)
    if http in (400, 422) or (http == 403 and "not tradable" in lowered):
        return InvalidOrder(f"Alpaca refused the order: {message}")
    return BrokerUnavailable(f"Alpaca answered {http}: {message}")
