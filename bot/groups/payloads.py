"""The group-money action kinds as typed payloads: what a card binds to and its digest hashes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from bot.actions import describe as describe_dict
from bot.actions import money_text
from bot.groups import texts
from bot.i18n import t
from bot.payloads import Payload, Split, register_payload
from ledger.money import from_minor


def _label(body: dict[str, Any], label: str | None) -> dict[str, Any]:
    if label is not None:
        body["from_label"] = label
    return body


class _Pays:
    """A payload that takes `amount` of `currency` from the initiator's wallet when it runs."""

    currency: str
    amount: int

    def funds_needed(self) -> tuple[str, int] | None:
        return self.currency, self.amount

    def amount_major(self) -> Decimal:
        return from_minor(self.amount, self.currency)


class _PaysOne(_Pays):
    """... and pays it to one person."""

    to_user: int

    def payees(self) -> set[int | None]:
        return {self.to_user}


@register_payload
@dataclass(frozen=True)
class RedPacketFund(_Pays, Payload):
    """Holding a red packet's parts from the sender's wallet (each part its own hold), for members to claim."""

    kind: ClassVar[str] = "red_packet"
    currency: str
    amount: int
    parts: tuple[int, ...]
    mode: str
    note: str | None
    chat_row_id: int
    chat_id: str
    hours: int
    from_user: int
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return _label({"currency": self.currency, "amount": self.amount, "parts": list(self.parts), "mode": self.mode,
                       "note": self.note, "chat_row_id": self.chat_row_id, "chat_id": self.chat_id, "hours": self.hours,
                       "from_user": self.from_user}, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RedPacketFund:
        return cls(currency=data["currency"], amount=int(data["amount"]), parts=tuple(int(p) for p in data["parts"]),
                   mode=str(data["mode"]), note=data.get("note"), chat_row_id=int(data["chat_row_id"]),
                   chat_id=str(data["chat_id"]), hours=int(data["hours"]), from_user=int(data["from_user"]),
                   from_label=data.get("from_label"))

    def describe(self, lang: str) -> str:
        text = texts.packet_proposal(lang, amount=self.amount, currency=self.currency, count=len(self.parts),
                                     mode=self.mode, hours=self.hours)
        if self.note:
            text += "\n" + t(lang, "Note: {note}", note=self.note)
        return text


@register_payload
@dataclass(frozen=True)
class PotPay(_Pays, Payload):
    """One member's part paid into a pot (held until the organiser closes or cancels it)."""

    kind: ClassVar[str] = "pot_pay"
    currency: str
    amount: int
    pot_id: str
    to_label: str
    note: str | None
    from_user: int
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return _label({"currency": self.currency, "amount": self.amount, "pot_id": self.pot_id, "to_label": self.to_label,
                       "note": self.note, "from_user": self.from_user}, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PotPay:
        return cls(currency=data["currency"], amount=int(data["amount"]), pot_id=str(data["pot_id"]),
                   to_label=str(data["to_label"]), note=data.get("note"), from_user=int(data["from_user"]),
                   from_label=data.get("from_label"))

    def describe(self, lang: str) -> str:
        lines = [t(lang, "Pay {amount} into the collection of {who}", amount=money_text(self.amount, self.currency, lang),
                   who=self.to_label)]
        if self.note:
            lines.append(t(lang, "Note: {note}", note=self.note))
        lines.append(t(lang, "It is held until {who} closes the collection (then it is theirs) or cancels it (then it "
                             "comes back to you).", who=self.to_label))
        return "\n".join(lines)


@register_payload
@dataclass(frozen=True)
class SettlePay(_PaysOne, Payload):
    """A settle-up payment: the debtor pays the creditor what the simplified debts say, recorded against the debts."""

    kind: ClassVar[str] = "settle"
    retryable: ClassVar[bool] = True
    currency: str
    amount: int
    to_user: int
    to_label: str
    chat_row_id: int
    from_user: int
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return _label({"currency": self.currency, "amount": self.amount, "to_user": self.to_user, "to_label": self.to_label,
                       "chat_row_id": self.chat_row_id, "from_user": self.from_user}, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SettlePay:
        return cls(currency=data["currency"], amount=int(data["amount"]), to_user=int(data["to_user"]),
                   to_label=str(data["to_label"]), chat_row_id=int(data["chat_row_id"]), from_user=int(data["from_user"]),
                   from_label=data.get("from_label"))

    def describe(self, lang: str) -> str:
        return "\n".join([
            t(lang, "Settle up: pay {amount} to {who}", amount=money_text(self.amount, self.currency, lang), who=self.to_label),
            t(lang, "Fee: {fee}", fee=money_text(0, self.currency, lang)),
        ])


@dataclass(frozen=True)
class Share:
    """One person's part of an expense or an uneven split."""

    user: int
    label: str
    amount: int

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "label": self.label, "amount": self.amount}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Share:
        return cls(user=int(data["user"]), label=str(data["label"]), amount=int(data["amount"]))


@register_payload
@dataclass(frozen=True)
class Expense(Payload):
    """An expense the initiator already paid, shared: each sharer owes them their part (no money moves now)."""

    kind: ClassVar[str] = "expense"
    stepup: ClassVar[bool] = False
    currency: str
    total: int
    shares: tuple[Share, ...]  # the initiator's first
    note: str | None
    chat_row_id: int
    mode: str
    from_user: int
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return _label({"currency": self.currency, "total": self.total, "shares": [s.to_dict() for s in self.shares],
                       "note": self.note, "chat_row_id": self.chat_row_id, "mode": self.mode,
                       "from_user": self.from_user}, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Expense:
        return cls(currency=data["currency"], total=int(data["total"]),
                   shares=tuple(Share.from_dict(s) for s in data["shares"]), note=data.get("note"),
                   chat_row_id=int(data["chat_row_id"]), mode=str(data.get("mode", "equal")),
                   from_user=int(data["from_user"]), from_label=data.get("from_label"))

    def describe(self, lang: str) -> str:
        lines = [t(lang, "You paid {amount}; it is shared in {n} parts:", amount=money_text(self.total, self.currency, lang),
                   n=len(self.shares))]
        you = t(lang, "you")
        for i, s in enumerate(self.shares):
            lines.append(f"  • {you if i == 0 else s.label}: {money_text(s.amount, self.currency, lang)}")
        if self.note:
            lines.append(t(lang, "Note: {note}", note=self.note))
        lines.append(t(lang, "No money moves now: it is written down as what each owes you, until you settle up."))
        lines.append(texts.rounding_note(lang))
        return "\n".join(lines)

    def amount_major(self) -> Decimal:
        return from_minor(self.total, self.currency)


@register_payload
@dataclass(frozen=True)
class Tip(_PaysOne, Payload):
    """A tip to a message's author: a payment like any other; `pinless` when the small-tip allowance covers it."""

    kind: ClassVar[str] = "tip"
    currency: str
    amount: int
    to_user: int
    to_label: str
    from_user: int
    eur_cents: int | None = None
    from_label: str | None = None

    def body(self) -> dict[str, Any]:
        return _label({"currency": self.currency, "amount": self.amount, "to_user": self.to_user, "to_label": self.to_label,
                       "eur_cents": self.eur_cents, "from_user": self.from_user}, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tip:
        eur = data.get("eur_cents")
        return cls(currency=data["currency"], amount=int(data["amount"]), to_user=int(data["to_user"]),
                   to_label=str(data["to_label"]), from_user=int(data["from_user"]),
                   eur_cents=int(eur) if eur is not None else None, from_label=data.get("from_label"))

    def describe(self, lang: str) -> str:
        return "\n".join([
            t(lang, "Tip {amount} to {who}", amount=money_text(self.amount, self.currency, lang), who=self.to_label),
            t(lang, "Fee: {fee}", fee=money_text(0, self.currency, lang)),
        ])


@register_payload
@dataclass(frozen=True)
class SmallTip(Tip):
    """A tip within the small-tip allowance and the low-value budget: confirmed by a press, no PIN."""

    kind: ClassVar[str] = "tip_small"
    stepup: ClassVar[bool] = False

    def describe(self, lang: str) -> str:
        return super().describe(lang) + "\n" + t(lang, "Within your small-tip allowance: no PIN needed.")


@register_payload
@dataclass(frozen=True)
class UnevenSplit(Split):
    """A split by named amounts, shares or percent, or with everyone: requests as an equal split makes, the card
    stating how the cents were rounded."""

    kind: ClassVar[str] = "split_uneven"

    def describe(self, lang: str) -> str:
        return describe_dict({**self.to_dict(), "kind": "split"}, lang) + "\n" + texts.rounding_note(lang)
