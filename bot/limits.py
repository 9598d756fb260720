"""Per-payment limits by KYC tier, applied to every road that moves money or places an order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.config import Settings
from ledger.money import to_minor

# the kinds of action that move the initiator's money or place an order (requests and splits move nothing)
MOVING = ("send", "deposit", "withdraw", "pay_request", "buy", "sell")


def limit_of(settings: Settings, tier: int) -> Decimal | None:
    """The most one payment may be at this tier (in the payment's currency), None for no limit."""
    if tier >= 2:
        return None
    return settings.kyc_tier0_limit if tier <= 0 else settings.kyc_tier1_limit


def amount_of(kind: str, payload: dict[str, Any]) -> int | None:
    """What one action moves, in minor units of its currency: every leg of a send, the cash held
    for a buy (or its estimate), the estimate of a sell; None for kinds that move nothing."""
    if kind not in MOVING:
        return None
    if kind == "send":
        return sum(int(leg["amount"]) for leg in payload.get("legs", []))
    if kind in ("buy", "sell"):
        for key in ("reserve", "estimate"):
            if payload.get(key) is not None:
                return int(payload[key])
        return None
    return int(payload["amount"]) if payload.get("amount") is not None else None


def over_limit(settings: Settings, tier: int, kind: str, payload: dict[str, Any]) -> int | None:
    """The limit in minor units when the action exceeds it, else None."""
    limit = limit_of(settings, tier)
    minor = amount_of(kind, payload)
    if limit is None or minor is None:
        return None
    cap = to_minor(limit, payload["currency"])
    return cap if minor > cap else None
