"""Typed action payloads: one dataclass per action kind, the canonical JSON the digest binds to, a registry.

`to_json()` is exactly the canonical JSON that is stored on the action and hashed into its digest;
`load(text)` reads it back as the kind's class. A feature adds a kind with `@register_payload` on a
frozen dataclass subclassing `Payload` (with `kind: ClassVar[str] = "..."`), in its own module.
"""

from __future__ import annotations

from bot.payloads.base import (
    Leg,
    Payload,
    Raw,
    describe,
    from_dict,
    kind_class,
    load,
    needs_stepup,
    register_payload,
    retryable,
)
from bot.payloads.money import Deposit, PayRequest, Request, Send, Split, Withdraw
from bot.payloads.orders import Buy, Order, Quote, Sell

__all__ = ["Buy", "Deposit", "Leg", "Order", "PayRequest", "Payload", "Quote", "Raw", "Request", "Sell", "Send", "Split",
           "Withdraw", "describe", "from_dict", "kind_class", "load", "needs_stepup", "register_payload", "retryable"]
