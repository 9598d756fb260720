"""Standing orders: the first and next run of an RRULE or a one-off date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dateutil.rrule import rrulestr

RUN_AT = time(9, 0)  # occurrences run at 09:00 UTC on their day


def first_run(payload: dict[str, Any], now: datetime) -> datetime | None:
    """When a newly confirmed schedule first runs: its date, or the rule's first day after now."""
    if payload.get("when"):
        day = date.fromisoformat(payload["when"])
        return datetime.combine(day, RUN_AT, tzinfo=UTC)
    rule = payload.get("recurrence")
    if not rule:
        return None
    return next_run(rule, now)


def next_run(rule: str, after: datetime) -> datetime | None:
    """The first occurrence of `rule` strictly after `after`, at the run hour."""
    start = datetime.combine(after.date(), RUN_AT, tzinfo=UTC)
    if start <= after:
        start_candidates = rrulestr(f"RRULE:{rule}", dtstart=start)
    else:
        start_candidates = rrulestr(f"RRULE:{rule}", dtstart=start - timedelta(days=1))
    return start_candidates.after(after, inc=False)  # type: ignore[no-any-return]
