"""The payload base: what every action kind's payload can say, the registry of kinds, load and describe."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from bot.actions import canonical
from bot.actions import describe as describe_dict
from bot.actions import needs_stepup as actions_needs_stepup
from ledger.money import from_minor


class Payload:
    """What one pending action will do. Subclasses are frozen dataclasses with a class-level `kind`."""

    kind: ClassVar[str] = ""
    stepup: ClassVar[bool] = True  # executing it moves money or places an order: confirm takes step-up
    retryable: ClassVar[bool] = False  # a failed card of this kind can be confirmed again (a new attempt)
    currency: str
    from_user: int
    from_label: str | None

    def body(self) -> dict[str, Any]:
        """The fields as JSON values, without "kind" (each kind writes its own)."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The payload as the JSON object stored on the action: "kind" first-class, absent keys left out."""
        return {"kind": self.kind, **self.body()}

    def to_json(self) -> str:
        """The canonical JSON: what the action stores and its digest hashes."""
        return canonical(self.to_dict())

    @classmethod
    def from_dict(cls: type[P], data: dict[str, Any]) -> P:
        raise NotImplementedError

    def labelled(self, label: str) -> Payload:
        """The payload with the initiator's label filled in (kept when it has one)."""
        if self.from_label is not None:
            return self
        return dataclasses.replace(self, from_label=label)  # type: ignore[type-var]

    def describe(self, lang: str) -> str:
        """What the card says it will do, in `lang`."""
        return describe_dict(self.to_dict(), lang)

    def funds_needed(self) -> tuple[str, int] | None:
        """The currency and minor units the initiator's wallet must hold to execute it now (None: nothing now)."""
        return None

    def amount_major(self) -> Decimal:
        """What it moves, in major units of its currency (the step-up policy weighs it)."""
        return Decimal(0)

    def payees(self) -> set[int | None]:
        """The users money goes to (None for a payee without an account yet)."""
        return set()


P = TypeVar("P", bound=Payload)
_KINDS: dict[str, type[Payload]] = {}


def register_payload(cls: type[P]) -> type[P]:
    """Make `cls` the payload class of its `kind` (a class decorator)."""
    assert cls.kind, "a payload class needs its kind"
    _KINDS[cls.kind] = cls
    return cls


def kind_class(kind: str) -> type[Payload] | None:
    """The payload class registered for `kind`."""
    return _KINDS.get(kind)


def from_dict(data: dict[str, Any]) -> Payload:
    """A payload from its JSON object, as its kind's class (Raw for a kind nobody registered)."""
    cls = _KINDS.get(str(data.get("kind")))
    return cls.from_dict(data) if cls is not None else Raw.from_dict(data)


def load(text: str) -> Payload:
    """A payload from the canonical JSON an action stores."""
    data: dict[str, Any] = json.loads(text)
    return from_dict(data)


def describe(payload: Payload, lang: str) -> str:
    """What a card of this payload says, in `lang`."""
    return payload.describe(lang)


def opt_dec(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def opt_str(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


@dataclass(frozen=True)
class Raw(Payload):
    """A payload of a kind no module registered: kept as it was written."""

    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data)

    def body(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k != "kind"}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Raw:
        return cls(data=dict(data))

    @property
    def currency(self) -> str:  # type: ignore[override]
        return str(self.data.get("currency", ""))

    @property
    def from_user(self) -> int:  # type: ignore[override]
        return int(self.data.get("from_user") or 0)

    @property
    def from_label(self) -> str | None:  # type: ignore[override]
        label = self.data.get("from_label")
        return str(label) if label is not None else None

    def amount_major(self) -> Decimal:
        cur = str(self.data.get("currency", "USD"))
        if "legs" in self.data:
            return from_minor(sum(int(leg["amount"]) for leg in self.data["legs"]), cur)
        if "amount" in self.data:
            return from_minor(int(self.data["amount"]), cur)
        if self.data.get("estimate") is not None:
            return from_minor(int(self.data["estimate"]), cur)
        return Decimal(0)

    def payees(self) -> set[int | None]:
        return {leg.get("to_user") for leg in self.data.get("legs", [])}


@dataclass(frozen=True)
class Leg:
    """One payee of a send, request or split: a known user, or a handle whose money waits in escrow."""

    to_user: int | None
    handle: str | None
    label: str
    escrow: bool
    amount: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"to_user": self.to_user, "handle": self.handle, "label": self.label, "escrow": self.escrow,
                "amount": self.amount}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Leg:
        return cls(to_user=data.get("to_user"), handle=data.get("handle"), label=str(data["label"]),
                   escrow=bool(data.get("escrow")), amount=int(data.get("amount") or 0))


def legs_of(data: dict[str, Any]) -> tuple[Leg, ...]:
    return tuple(Leg.from_dict(leg) for leg in data.get("legs", []))


def labelled_body(body: dict[str, Any], label: str | None) -> dict[str, Any]:
    if label is not None:
        body["from_label"] = label
    return body

def needs_stepup(kind: str) -> bool:
    """Whether confirming an action of `kind` takes step-up (its payload class says; money kinds do)."""
    cls = _KINDS.get(kind)
    return cls.stepup if cls is not None else actions_needs_stepup(kind)


def retryable(kind: str) -> bool:
    """Whether a failed card of `kind` can be confirmed again as a new attempt."""
    cls = _KINDS.get(kind)
    return cls is not None and cls.retryable
