"""The paper broker's mutable order record and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.broker import Fill, Order, OrderSide, OrderStatus, OrderType, TimeInForce

AVG_PRICE = Decimal("0.000001")


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass
class PaperOrder:
    """One order as the paper broker keeps it: the request, its fills and its matching cursor."""

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    time_in_force: TimeInForce
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    price_bound: Decimal | None
    currency: str
    status: OrderStatus
    submitted_at: datetime
    updated_at: datetime
    cursor: int  # the last UTC minute matched
    expires: int | None  # DAY orders: the close minute of their session
    fills: list[Fill] = field(default_factory=list)

    @property
    def filled_qty(self) -> Decimal:
        """Sum of the fills' quantities."""
        return sum((f.qty for f in self.fills), Decimal(0))

    @property
    def filled_cost(self) -> Decimal:
        """Exact sum of qty * price over the fills."""
        return sum((f.qty * f.price for f in self.fills), Decimal(0))

    def remaining_qty(self) -> Decimal | None:
        """Shares still to fill for a qty order (None for a notional one)."""
        return None if self.qty is None else self.qty - self.filled_qty

    def remaining_notional(self) -> Decimal | None:
        """Money still to spend or raise for a notional order (None for a qty one)."""
        return None if self.notional is None else self.notional - self.filled_cost

    def snapshot(self) -> Order:
        """The frozen port view of this order."""
        filled = self.filled_qty
        avg = (self.filled_cost / filled).quantize(AVG_PRICE) if filled else None
        return Order(
            client_order_id=self.client_order_id,
            broker_order_id=self.broker_order_id,
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            time_in_force=self.time_in_force,
            qty=self.qty,
            notional=self.notional,
            limit_price=self.limit_price,
            status=self.status,
            filled_qty=filled,
            filled_avg_price=avg,
            fills=tuple(self.fills),
            reject_reason=None,
            submitted_at=self.submitted_at,
            updated_at=self.updated_at,
            currency=self.currency,
            price_bound=self.price_bound,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-able dict (Decimals and times as strings)."""
        return {
            "client_order_id": self.client_order_id,
            "broker_order_id": self.broker_order_id,
            "symbol": self.symbol,
            "side": self.side.value,
            "type": self.type.value,
            "time_in_force": self.time_in_force.value,
            "qty": _str(self.qty),
            "notional": _str(self.notional),
            "limit_price": _str(self.limit_price),
            "price_bound": _str(self.price_bound),
            "currency": self.currency,
            "status": self.status.value,
            "submitted_at": self.submitted_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "cursor": self.cursor,
            "expires": self.expires,
            "fills": [
                {"fill_id": f.fill_id, "qty": str(f.qty), "price": str(f.price), "at": f.at.isoformat()}
                for f in self.fills
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PaperOrder:
        """The inverse of to_json."""
        coid = str(data["client_order_id"])
        return cls(
            client_order_id=coid,
            broker_order_id=str(data["broker_order_id"]),
            symbol=str(data["symbol"]),
            side=OrderSide(data["side"]),
            type=OrderType(data["type"]),
            time_in_force=TimeInForce(data["time_in_force"]),
            qty=_dec(data["qty"]),
            notional=_dec(data["notional"]),
            limit_price=_dec(data["limit_price"]),
            price_bound=_dec(data["price_bound"]),
            currency=str(data["currency"]),
            status=OrderStatus(data["status"]),
            submitted_at=datetime.fromisoformat(data["submitted_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            cursor=int(data["cursor"]),
            expires=None if data["expires"] is None else int(data["expires"]),
            fills=[
                Fill(
                    fill_id=str(f["fill_id"]),
                    client_order_id=coid,
                    qty=Decimal(f["qty"]),
                    price=Decimal(f["price"]),
                    at=datetime.fromisoformat(f["at"]),
                )
                for f in data["fills"]
            ],
        )
