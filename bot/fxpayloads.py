"""The payloads of conversions: into one's own wallet (`convert`) and a payment across currencies (`fx_send`).

The quote is part of the payload, so the digest a person confirms covers the rate, both amounts,
the fee and the quote's expiry: a price that moved is a new card, never a silent re-price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from bot.actions import money_text
from bot.fx import Quote
from bot.fxtext import both_amounts, convert_lines, send_quote_lines
from bot.i18n import t
from bot.payloads import Leg, Payload, register_payload
from ledger.money import from_minor


def _label(body: dict[str, Any], label: str | None) -> dict[str, Any]:
    if label is not None:
        body["from_label"] = label
    return body


@register_payload
@dataclass(frozen=True)
class Convert(Payload):
    """Money from the initiator's wallet in `fx.sell` into their own wallet in `fx.buy` (opened if needed)."""

    kind: ClassVar[str] = "convert"
    currency: str  # the currency bought
    from_user: int
    fx: Quote
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return _label({"currency": self.currency, "from_user": self.from_user, "fx": self.fx.to_payload()},
                      self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Convert:
        return cls(currency=str(data["currency"]), from_user=int(data["from_user"]), fx=Quote.from_payload(data["fx"]),
                   from_label=data.get("from_label"))

    def describe(self, lang: str) -> str:
        return "\n".join(convert_lines(self.fx, lang))

    def funds_needed(self) -> tuple[str, int] | None:
        return self.fx.sell, self.fx.total

    def amount_major(self) -> Decimal:
        return from_minor(self.fx.total, self.fx.sell)


@register_payload
@dataclass(frozen=True)
class FxSend(Payload):
    """A payment whose payees receive `currency` while the initiator pays from `fx.sell`: the legs' amounts are
    what each payee receives, exactly; `named`/`named_amount` are what the person wrote ("20 €")."""

    kind: ClassVar[str] = "fx_send"
    currency: str  # what the payees receive
    legs: tuple[Leg, ...]
    note: str | None
    from_user: int
    fx: Quote
    named: str
    named_amount: int
    from_label: str | None = None

    @property
    def total(self) -> int:
        return sum(leg.amount for leg in self.legs)

    def body(self) -> dict[str, Any]:
        return _label({"currency": self.currency, "legs": [leg.to_dict() for leg in self.legs], "note": self.note,
                       "from_user": self.from_user, "fx": self.fx.to_payload(), "named": self.named,
                       "named_amount": self.named_amount}, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FxSend:
        return cls(currency=str(data["currency"]), legs=tuple(Leg.from_dict(leg) for leg in data.get("legs", [])),
                   note=data.get("note"), from_user=int(data["from_user"]), fx=Quote.from_payload(data["fx"]),
                   named=str(data["named"]), named_amount=int(data["named_amount"]), from_label=data.get("from_label"))

    def describe(self, lang: str) -> str:
        lines: list[str] = []
        if len(self.legs) == 1:
            lines.append(t(lang, "Send {amount} to {who}", amount=money_text(self.total, self.currency, lang),
                           who=self.legs[0].label))
        else:
            lines.append(t(lang, "Send {amount} in all:", amount=money_text(self.total, self.currency, lang)))
            lines += [f"  • {leg.label}: {money_text(leg.amount, self.currency, lang)}" for leg in self.legs]
        if self.named != self.currency and self.named != self.fx.sell:
            lines.append(t(lang, "({amount} each, in the payee's currency)",
                           amount=both_amounts(self.named_amount, self.named, self.legs[0].amount, self.currency, lang)))
        lines += send_quote_lines(self.fx, lang)
        if self.note:
            lines.append(t(lang, "Note: {note}", note=self.note))
        return "\n".join(lines)

    def funds_needed(self) -> tuple[str, int] | None:
        return self.fx.sell, self.fx.total

    def amount_major(self) -> Decimal:
        return from_minor(self.fx.total, self.fx.sell)

    def payees(self) -> set[int | None]:
        return {leg.to_user for leg in self.legs}


@register_payload
@dataclass(frozen=True)
class FxPayRequest(Payload):
    """Paying a request in another currency than one's own: the requester receives exactly what they asked
    (`amount` of `currency`), the payer pays `fx.total` of `fx.sell`."""

    kind: ClassVar[str] = "fx_pay_request"
    currency: str  # the request's currency
    amount: int
    request_id: int
    to_user: int
    to_label: str
    note: str | None
    from_user: int
    fx: Quote
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return _label({"currency": self.currency, "amount": self.amount, "request_id": self.request_id,
                       "to_user": self.to_user, "to_label": self.to_label, "note": self.note,
                       "from_user": self.from_user, "fx": self.fx.to_payload()}, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FxPayRequest:
        return cls(currency=str(data["currency"]), amount=int(data["amount"]), request_id=int(data["request_id"]),
                   to_user=int(data["to_user"]), to_label=str(data["to_label"]), note=data.get("note"),
                   from_user=int(data["from_user"]), fx=Quote.from_payload(data["fx"]), from_label=data.get("from_label"))

    def describe(self, lang: str) -> str:
        lines = [t(lang, "Pay {amount} to {who}", amount=money_text(self.amount, self.currency, lang), who=self.to_label)]
        lines += send_quote_lines(self.fx, lang)
        if self.note:
            lines.append(t(lang, "Note: {note}", note=self.note))
        return "\n".join(lines)

    def funds_needed(self) -> tuple[str, int] | None:
        return self.fx.sell, self.fx.total

    def amount_major(self) -> Decimal:
        return from_minor(self.fx.total, self.fx.sell)

    def payees(self) -> set[int | None]:
        return {self.to_user}
