"""The money kinds' payloads: send, request, split, deposit, withdraw, pay_request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from bot.payloads.base import Leg, Payload, labelled_body, legs_of, register_payload
from ledger.money import from_minor


@register_payload
@dataclass(frozen=True)
class Send(Payload):
    """Money from the initiator to one or more payees; with a recurrence or a date, a standing order."""

    kind: ClassVar[str] = "send"
    retryable: ClassVar[bool] = True
    currency: str
    legs: tuple[Leg, ...]
    note: str | None
    from_user: int
    fee: int = 0
    escrow_days: int = 7
    recurrence: str | None = None
    when: date | None = None
    from_label: str | None = None

    @property
    def scheduled(self) -> bool:
        """A standing or future order: confirming it makes a schedule, the money moves when it runs."""
        return bool(self.recurrence or self.when)

    @property
    def total(self) -> int:
        return sum(leg.amount for leg in self.legs)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"currency": self.currency, "legs": [leg.to_dict() for leg in self.legs], "note": self.note,
                               "fee": self.fee, "from_user": self.from_user, "escrow_days": self.escrow_days}
        if self.recurrence:
            out["recurrence"] = self.recurrence
        if self.when:
            out["when"] = self.when.isoformat()
        return labelled_body(out, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Send:
        when = data.get("when")
        return cls(currency=data["currency"], legs=legs_of(data), note=data.get("note"), from_user=int(data["from_user"]),
                   fee=int(data.get("fee") or 0), escrow_days=int(data.get("escrow_days", 7)),
                   recurrence=data.get("recurrence") or None, when=date.fromisoformat(when) if when else None,
                   from_label=data.get("from_label"))

    def funds_needed(self) -> tuple[str, int] | None:
        return None if self.scheduled else (self.currency, self.total)

    def amount_major(self) -> Decimal:
        return from_minor(self.total, self.currency)

    def payees(self) -> set[int | None]:
        return {leg.to_user for leg in self.legs}


@register_payload
@dataclass(frozen=True)
class Request(Payload):
    """Asking each leg's payer for their amount (no money moves when it is confirmed)."""

    kind: ClassVar[str] = "request"
    stepup: ClassVar[bool] = False
    currency: str
    legs: tuple[Leg, ...]
    note: str | None
    from_user: int
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return labelled_body({"currency": self.currency, "legs": [leg.to_dict() for leg in self.legs], "note": self.note,
                       "from_user": self.from_user}, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Request:
        return cls(currency=data["currency"], legs=legs_of(data), note=data.get("note"), from_user=int(data["from_user"]),
                   from_label=data.get("from_label"))

    def amount_major(self) -> Decimal:
        return from_minor(sum(leg.amount for leg in self.legs), self.currency)

    def payees(self) -> set[int | None]:
        return {leg.to_user for leg in self.legs}


@register_payload
@dataclass(frozen=True)
class Split(Payload):
    """A bill shared in equal parts: the initiator's own share, and a request to each other leg."""

    kind: ClassVar[str] = "split"
    stepup: ClassVar[bool] = False
    currency: str
    legs: tuple[Leg, ...]
    note: str | None
    total: int
    own_share: int
    from_user: int
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return labelled_body({"currency": self.currency, "legs": [leg.to_dict() for leg in self.legs], "note": self.note,
                       "total": self.total, "own_share": self.own_share, "from_user": self.from_user}, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Split:
        return cls(currency=data["currency"], legs=legs_of(data), note=data.get("note"), total=int(data["total"]),
                   own_share=int(data["own_share"]), from_user=int(data["from_user"]), from_label=data.get("from_label"))

    def amount_major(self) -> Decimal:
        return from_minor(sum(leg.amount for leg in self.legs), self.currency)

    def payees(self) -> set[int | None]:
        return {leg.to_user for leg in self.legs}


@dataclass(frozen=True)
class _Funding(Payload):
    currency: str
    amount: int
    from_user: int
    fee: int = 0
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return labelled_body({"currency": self.currency, "amount": self.amount, "fee": self.fee, "from_user": self.from_user},
                      self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Funding:
        return cls(currency=data["currency"], amount=int(data["amount"]), from_user=int(data["from_user"]),
                   fee=int(data.get("fee") or 0), from_label=data.get("from_label"))

    def amount_major(self) -> Decimal:
        return from_minor(self.amount, self.currency)


@register_payload
@dataclass(frozen=True)
class Deposit(_Funding):
    """A top-up from the funding source into the initiator's wallet."""

    kind: ClassVar[str] = "deposit"
    retryable: ClassVar[bool] = True


@register_payload
@dataclass(frozen=True)
class Withdraw(_Funding):
    """A payout from the initiator's wallet to their payout account."""

    kind: ClassVar[str] = "withdraw"
    retryable: ClassVar[bool] = True

    def funds_needed(self) -> tuple[str, int] | None:
        return self.currency, self.amount + self.fee


@register_payload
@dataclass(frozen=True)
class PayRequest(Payload):
    """Paying a request someone made of the initiator."""

    kind: ClassVar[str] = "pay_request"
    currency: str
    amount: int
    request_id: int
    to_user: int
    to_label: str
    note: str | None
    from_user: int
    fee: int = 0
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return labelled_body({"currency": self.currency, "amount": self.amount, "request_id": self.request_id,
                       "to_user": self.to_user, "to_label": self.to_label, "note": self.note, "fee": self.fee,
                       "from_user": self.from_user}, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PayRequest:
        return cls(currency=data["currency"], amount=int(data["amount"]), request_id=int(data["request_id"]),
                   to_user=int(data["to_user"]), to_label=str(data["to_label"]), note=data.get("note"),
                   from_user=int(data["from_user"]), fee=int(data.get("fee") or 0), from_label=data.get("from_label"))

    def funds_needed(self) -> tuple[str, int] | None:
        return self.currency, self.amount + self.fee

    def amount_major(self) -> Decimal:
        return from_minor(self.amount, self.currency)


