"""The small-tip allowance: tips up to a set amount may skip the PIN, within a low-value budget (PSD2 RTS art. 16:
at most EUR 30 each, and 5 payments or EUR 100 in all since the last strong authentication). Off by default."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from bot.groups.models import TipBudget

EACH_CAP_EUR = 3000  # euro cents: art. 16's per-payment ceiling, whatever the setting says


def _budget(s: Session, user_id: int, now: datetime) -> TipBudget:
    row = s.get(TipBudget, user_id)
    if row is None:
        row = TipBudget(user_id=user_id, since=now)
        s.add(row)
        s.flush()
    return row


def skips_pin(s: Session, user_id: int, eur_cents: int | None, *, allowance: Decimal, max_count: int,
              max_total: Decimal, now: datetime) -> bool:
    """Whether this tip (its value in euro cents; None: no rate, so no exemption) may go without a PIN."""
    if allowance <= 0 or eur_cents is None or eur_cents <= 0:
        return False
    if eur_cents > min(int(allowance * 100), EACH_CAP_EUR):
        return False
    row = _budget(s, user_id, now)
    return row.count + 1 <= max_count and row.total_eur + eur_cents <= int(max_total * 100)


def spend(s: Session, user_id: int, eur_cents: int, now: datetime) -> None:
    """Count a PIN-less tip against the budget."""
    row = _budget(s, user_id, now)
    row.count += 1
    row.total_eur += eur_cents
    s.flush()


def reset(s: Session, user_id: int, now: datetime) -> None:
    """A PIN was given: the budget starts again."""
    row = _budget(s, user_id, now)
    row.count, row.total_eur, row.since = 0, 0, now
    s.flush()
