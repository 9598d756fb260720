"""Limits by KYC tier (per payment, day and month) in one reference currency, applied through the rate to every
road that moves money or places an order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bot.config import Settings
from bot.moved import MOVING, amount_of, moved_currency
from bot.rates import RatesPort
from ledger.money import to_minor

__all__ = ["MOVING", "Breach", "amount_of", "breach", "moved_currency", "tier_limits", "used_ref"]


def limit_of(settings: Settings, tier: int) -> Decimal | None:
    """The most one payment may be at this tier, in LIMITS_CURRENCY major units; None for no limit."""
    if tier >= 2:
        return None
    return settings.kyc_tier0_limit if tier <= 0 else settings.kyc_tier1_limit


# -- limits in one reference currency (issue 13) ------------------------------------------------

PERIODS = ("payment", "day", "month")


@dataclass(frozen=True)
class Breach:
    """A limit an action would pass: which period, the limit in the reference currency and in the
    action's currency (both in minor units), and what the period has used already (action currency)."""

    period: str
    limit_ref: int
    reference: str
    limit_minor: int
    currency: str
    used_minor: int = 0


def tier_limits(settings: Settings, tier: int) -> dict[str, Decimal | None]:
    """The tier's limits per payment, per day and per month, in the reference currency (None: no limit)."""
    if tier >= 2:
        return dict.fromkeys(PERIODS)
    if tier <= 0:
        return {"payment": settings.kyc_tier0_limit, "day": settings.kyc_tier0_daily_limit,
                "month": settings.kyc_tier0_monthly_limit}
    return {"payment": settings.kyc_tier1_limit, "day": settings.kyc_tier1_daily_limit,
            "month": settings.kyc_tier1_monthly_limit}


def to_reference(rates: RatesPort, minor: int, currency: str, reference: str, on: date) -> int:
    """`minor` units of `currency` in minor units of `reference` at the day's mid rate (the latest known,
    however old: a limit still applies when rates are stale)."""
    from bot.fx import value_in

    return value_in(rates, minor, currency, reference, on)


def from_reference(rates: RatesPort, ref_minor: int, reference: str, currency: str, on: date) -> int:
    """A reference amount shown in `currency` (rounded down): what the limit reads in the payer's money."""
    from bot.fx import value_in

    return value_in(rates, ref_minor, reference, currency, on)


def breach(settings: Settings, rates: RatesPort, tier: int, kind: str, payload: dict[str, Any], on: date,
           used_day_ref: int = 0, used_month_ref: int = 0) -> Breach | None:
    """The first limit (payment, then day, then month) the action would pass, else None. `used_*_ref`: what
    the initiator's executed moving actions of that UTC day and month already moved, in reference minor units."""
    minor = amount_of(kind, payload)
    if minor is None:
        return None
    reference = settings.limits_currency.upper()
    cur = moved_currency(kind, payload)
    amount_ref = to_reference(rates, minor, cur, reference, on)
    used = {"payment": 0, "day": used_day_ref, "month": used_month_ref}
    for period, limit in tier_limits(settings, tier).items():
        if limit is None:
            continue
        cap = to_minor(limit, reference)
        if used[period] + amount_ref > cap:
            shown = from_reference(rates, cap, reference, cur, on)
            spent = from_reference(rates, used[period], reference, cur, on)
            return Breach(period, cap, reference, shown, cur, spent)
    return None


def used_ref(rates: RatesPort, reference: str, moved: dict[str, int], on: date) -> int:
    """What executed actions moved (minor units per currency), summed in reference minor units at the rate of `on`."""
    return sum(to_reference(rates, minor, cur, reference, on) for cur, minor in sorted(moved.items()) if minor)
