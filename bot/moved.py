"""What one action moves out of its initiator's wallet: an amount and a currency, read off its payload.

Kept with each action when it is made (`Action.moved_minor`, `Action.moved_currency`), so what a day or a
month of payments used of a limit is one indexed sum, not every payload of the period read and parsed."""

from __future__ import annotations

from typing import Any

# the kinds of action that move the initiator's money or place an order (requests and splits move nothing)
MOVING = ("send", "deposit", "withdraw", "pay_request", "buy", "sell", "convert")


def amount_of(kind: str, payload: dict[str, Any]) -> int | None:
    """What one action moves, in minor units of its currency: every leg of a send, the cash held
    for a buy (or its estimate), the estimate of a sell; None for kinds that move nothing."""
    if kind not in MOVING:
        return None
    fx = payload.get("fx")
    if isinstance(fx, dict) and "cost" in fx:  # a conversion: what leaves the wallet, the fee included
        return int(fx["cost"]) + int(fx.get("fee", 0))
    if kind == "send":
        return sum(int(leg["amount"]) for leg in payload.get("legs", []))
    if kind in ("buy", "sell"):
        for key in ("reserve", "estimate"):
            if payload.get(key) is not None:
                return int(payload[key])
        return None
    return int(payload["amount"]) if payload.get("amount") is not None else None


def moved_currency(kind: str, payload: dict[str, Any]) -> str:
    """The currency `amount_of` counts in: what leaves the wallet (the sell side of a conversion)."""
    fx = payload.get("fx")
    if isinstance(fx, dict) and fx.get("sell"):
        return str(fx["sell"])
    return str(payload["currency"])


def moved(kind: str, payload: dict[str, Any]) -> tuple[int | None, str | None]:
    """(minor units, currency) the action moves, or (None, None) for kinds that move nothing."""
    minor = amount_of(kind, payload)
    if minor is None:
        return None, None
    return minor, moved_currency(kind, payload)
