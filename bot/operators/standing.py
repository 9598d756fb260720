"""An account's standing: frozen or not, its own limits over the tier's, and whether a payment stays within them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.limits import amount_of, limit_of
from bot.models import Action, Schedule, User
from bot.operators.models import AccountStanding
from ledger.money import to_minor

LIMIT_NAMES = ("per_payment", "per_day", "per_month")


_NONE = "operators.no_standing"  # s.info: user ids with no row, read once a session (an event's limit and freeze checks)


def standing(s: Session, user_id: int) -> AccountStanding | None:
    """The row operators set on this account, if any. A row read is in the session's identity map; that there is
    none is remembered for the session too, so the checks of one event ask the database once."""
    missing: set[int] = s.info.setdefault(_NONE, set())
    if user_id in missing:
        return None
    row = s.get(AccountStanding, user_id)
    if row is None:
        missing.add(user_id)
    return row


def standing_row(s: Session, user_id: int) -> AccountStanding:
    """The row, made when missing."""
    row = standing(s, user_id)
    if row is None:
        row = AccountStanding(user_id=user_id)
        s.add(row)
        s.info.setdefault(_NONE, set()).discard(user_id)
    return row


def is_frozen(s: Session, user_id: int | None) -> bool:
    """Whether an operator froze this account (it cannot send, request, confirm, trade or withdraw)."""
    if user_id is None:
        return False
    row = standing(s, user_id)
    return bool(row is not None and row.frozen)


def is_closed(s: Session, user_id: int | None) -> bool:
    """Whether the person closed this account."""
    if user_id is None:
        return False
    row = standing(s, user_id)
    return bool(row is not None and row.closed_at is not None)


def frozen_ids(s: Session) -> set[int]:
    """Every frozen account's user id."""
    return set(s.exec(select(AccountStanding.user_id).where(col(AccountStanding.frozen).is_(True))).all())


def held_schedules(s: Session) -> list[Schedule]:
    """Standing orders of frozen accounts: kept, not run, while the freeze lasts."""
    ids = frozen_ids(s)
    if not ids:
        return []
    return list(s.exec(select(Schedule).where(col(Schedule.user_id).in_(ids), col(Schedule.active).is_(True))).all())


@dataclass(frozen=True)
class Limits:
    """The limits that apply to one person, in minor units of `currency` (None: no limit)."""

    currency: str
    per_payment: int | None
    per_day: int | None
    per_month: int | None

    def as_dict(self) -> dict[str, int | None]:
        """The three limits by name."""
        return {"per_payment": self.per_payment, "per_day": self.per_day, "per_month": self.per_month}


def effective(settings: Settings, user: User, row: AccountStanding | None) -> Limits:
    """The tier's per-payment limit in the person's currency, with the operators' own limits over it."""
    cur = (row.limits_currency if row is not None and row.limits_currency else None) or user.currency
    tier_cap = limit_of(settings, user.kyc_tier)
    per_payment = None if tier_cap is None else to_minor(tier_cap, cur)
    per_day = per_month = None
    if row is not None:
        if row.per_payment is not None:
            per_payment = row.per_payment
        per_day, per_month = row.per_day, row.per_month
    return Limits(cur, per_payment, per_day, per_month)


def _more(new: int | None, old: int | None) -> bool:
    """Whether `new` allows more than `old` (None is no limit, the most of all)."""
    if new is None:
        return old is not None
    return old is not None and new > old


def raises(old: Limits, new: Limits) -> list[str]:
    """The names of the limits `new` lifts above `old` (an approval is needed for those)."""
    return [n for n in LIMIT_NAMES if _more(new.as_dict()[n], old.as_dict()[n])]


def _used_since(s: Session, user_id: int, currency: str, since: datetime) -> int:
    """Minor units of `currency` this person's executed moving actions (top-ups aside) took out since `since`:
    one indexed sum (bot_actions: initiator, status, done_at)."""
    total = s.execute(
        sa.select(sa.func.coalesce(sa.func.sum(col(Action.moved_minor)), 0))
        .where(col(Action.initiator_id) == user_id, col(Action.status) == "executed", col(Action.done_at) >= since,
               col(Action.moved_currency) == currency, col(Action.kind) != "deposit")
    ).scalar_one()
    return int(total)


def over(s: Session, settings: Settings, user: User, kind: str, payload: dict[str, Any], now: datetime) -> tuple[str, int] | None:
    """Which limit this action would pass and that limit's amount, else None. A top-up is only held to the
    per-payment limit; per day and per month count what left the wallet, in the limits' currency."""
    minor = amount_of(kind, payload)
    if minor is None or user.id is None:
        return None
    lim = effective(settings, user, standing(s, user.id))
    cur = str(payload.get("currency", ""))
    row = standing(s, user.id)  # the tier's own limits are weighed in LIMITS_CURRENCY (bot/fxservice.limit_breach)
    cap = row.per_payment if row is not None and row.per_payment is not None and cur == lim.currency else None
    if cap is not None and minor > cap:
        return "per_payment", cap
    if kind == "deposit" or cur != lim.currency:
        return None
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    month = datetime(now.year, now.month, 1, tzinfo=UTC)
    for name, since, cap2 in (("per_day", day, lim.per_day), ("per_month", month, lim.per_month)):
        if cap2 is not None and _used_since(s, user.id, cur, since) + minor > cap2:
            return name, cap2
    return None


def locked_count(s: Session, now: datetime) -> int:
    """How many people's step-up is locked right now."""
    n = s.exec(select(sa.func.count()).select_from(User).where(col(User.stepup_locked_until) > now)).one()
    return int(n)
