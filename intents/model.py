"""The parsed object: the Intent and AmountParse value types and the contract's vocabulary."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

INTENTS: tuple[str, ...] = (
    "send",
    "request",
    "split",
    "balance",
    "history",
    "deposit",
    "withdraw",
    "buy",
    "sell",
    "quote",
    "portfolio",
    "cancel",
    "help",
    "convert",
    "schedules",
    "unschedule",
    "debts",
    "settle",
    "collect",
    "red_packet",
    "tip",
    "none",
)
MONEY_INTENTS: frozenset[str] = frozenset(
    {"send", "request", "split", "deposit", "withdraw", "buy", "sell", "convert", "collect", "red_packet", "tip", "settle"}
)
PAYMENT_INTENTS: frozenset[str] = frozenset({"send", "request", "split"})
TRADE_INTENTS: frozenset[str] = frozenset({"buy", "sell"})
CLARIFY_CODES: tuple[str, ...] = (
    "ambiguous_amount",
    "missing_amount",
    "missing_recipient",
    "unknown_symbol",
    "ambiguous_intent",
    "missing_quantity",
)
LANGUAGES: tuple[str, ...] = ("en", "nb", "fr")
DECIMAL_KEYS: tuple[str, ...] = ("amount", "quantity", "notional", "fraction", "limit_price")
KEYS: tuple[str, ...] = (
    "intent",
    "lang",
    "amount",
    "currency",
    "recipients",
    "symbol",
    "quantity",
    "notional",
    "fraction",
    "limit_price",
    "recurrence",
    "when",
    "note",
    "to_currency",
    "count",
    "clarify",
)


def decimal_str(value: Decimal | None) -> str | None:
    """A decimal as the contract writes it: plain notation, no trailing zeros ("20", "20.5")."""
    if value is None:
        return None
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@dataclass(frozen=True, slots=True)
class Intent:
    """What a chat message asks of the bot, with every slot of the contract (None when not said)."""

    intent: str
    lang: str
    amount: Decimal | None = None
    currency: str | None = None
    recipients: tuple[str, ...] = ()
    symbol: str | None = None
    quantity: Decimal | None = None
    notional: Decimal | None = None
    fraction: Decimal | None = None
    limit_price: Decimal | None = None
    recurrence: str | None = None
    when: datetime.date | None = None
    note: str | None = None
    clarify: str | None = None
    to_currency: str | None = None
    count: str | None = None  # an integer string, as the contract writes it

    @property
    def is_money(self) -> bool:
        """True for the intents that move money or place an order."""
        return self.intent in MONEY_INTENTS

    def to_json_dict(self) -> dict[str, object]:
        """The contract's JSON object: every key present, decimals as normalised strings."""
        return {
            "intent": self.intent,
            "lang": self.lang,
            "amount": decimal_str(self.amount),
            "currency": self.currency,
            "recipients": list(self.recipients),
            "symbol": self.symbol,
            "quantity": decimal_str(self.quantity),
            "notional": decimal_str(self.notional),
            "fraction": decimal_str(self.fraction),
            "limit_price": decimal_str(self.limit_price),
            "recurrence": self.recurrence,
            "when": self.when.isoformat() if self.when is not None else None,
            "note": self.note,
            "to_currency": self.to_currency,
            "count": self.count,
            "clarify": self.clarify,
        }


@dataclass(frozen=True, slots=True)
class AmountParse:
    """An answer to "how much?": the amount, its currency if written, and a clarify code if unsure."""

    amount: Decimal
    currency: str | None
    clarify: str | None = None
