"""The orders' payloads: buy and sell, with the quote the card showed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from bot.payloads.base import Payload, labelled_body, opt_dec, opt_str, register_payload
from ledger.money import from_minor


@dataclass(frozen=True)
class Quote:
    """The broker's quote the card showed."""

    bid: Decimal
    ask: Decimal
    at: datetime
    market_open: bool

    def to_dict(self) -> dict[str, Any]:
        return {"bid": str(self.bid), "ask": str(self.ask), "at": self.at.isoformat(), "market_open": self.market_open}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Quote:
        return cls(bid=Decimal(str(data["bid"])), ask=Decimal(str(data["ask"])), at=datetime.fromisoformat(data["at"]),
                   market_open=bool(data["market_open"]))


@dataclass(frozen=True)
class Order(Payload):
    """A buy or sell through the broker: the quote shown, the estimate, and the cash a buy holds until it fills."""

    symbol: str
    currency: str
    from_user: int
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    price_bound: Decimal
    type: str
    tif: str
    quote: Quote
    estimate: int
    fee: int
    band_bps: int
    reserve: int | None
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return labelled_body({
            "symbol": self.symbol, "currency": self.currency, "from_user": self.from_user,
            "qty": opt_str(self.qty), "notional": opt_str(self.notional), "limit_price": opt_str(self.limit_price),
            "price_bound": str(self.price_bound), "type": self.type, "tif": self.tif, "quote": self.quote.to_dict(),
            "estimate": self.estimate, "fee": self.fee, "band_bps": self.band_bps, "reserve": self.reserve,
        }, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        reserve = data.get("reserve")
        return cls(symbol=data["symbol"], currency=data["currency"], from_user=int(data["from_user"]),
                   qty=opt_dec(data.get("qty")), notional=opt_dec(data.get("notional")),
                   limit_price=opt_dec(data.get("limit_price")), price_bound=Decimal(str(data["price_bound"])),
                   type=data["type"], tif=data["tif"], quote=Quote.from_dict(data["quote"]), estimate=int(data["estimate"]),
                   fee=int(data.get("fee") or 0), band_bps=int(data.get("band_bps") or 0),
                   reserve=int(reserve) if reserve is not None else None, from_label=data.get("from_label"))

    def amount_major(self) -> Decimal:
        return from_minor(self.estimate, self.currency)


@register_payload
@dataclass(frozen=True)
class Buy(Order):
    """Buying shares."""

    kind: ClassVar[str] = "buy"

    def funds_needed(self) -> tuple[str, int] | None:
        return (self.currency, self.reserve) if self.reserve is not None else None


@register_payload
@dataclass(frozen=True)
class Sell(Order):
    """Selling shares."""

    kind: ClassVar[str] = "sell"


