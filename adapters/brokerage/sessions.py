"""Trading sessions per exchange (exchange-calendars), as whole UTC minutes since the epoch."""

from __future__ import annotations

import warnings
from bisect import bisect_right
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache

from bot.broker import InvalidRequest

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
FIRST_YEAR = 2015
LAST_YEAR = 2035


def to_minute(at: datetime) -> int:
    """The UTC minute (since the epoch) containing an aware datetime."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return (at - EPOCH) // MINUTE


def from_minute(minute: int) -> datetime:
    """The start of a UTC minute."""
    return EPOCH + minute * MINUTE


class Sessions:
    """Open and close minutes of every session of one exchange calendar, searched by bisection."""

    def __init__(self, code: str, opens: list[int], closes: list[int]) -> None:
        self.code = code
        self._opens = opens
        self._closes = closes

    def _index(self, minute: int) -> int:
        """Index of the last session opening at or before the minute (-1 if none)."""
        return bisect_right(self._opens, minute) - 1

    def _check(self, minute: int) -> None:
        if not self._opens or minute < self._opens[0] or minute >= self._closes[-1]:
            raise InvalidRequest(f"{from_minute(minute):%Y-%m-%d} is outside the {self.code} calendar")

    def is_open(self, minute: int) -> bool:
        """True when the minute is inside a session."""
        self._check(minute)
        i = self._index(minute)
        return i >= 0 and minute < self._closes[i]

    def session_of(self, minute: int) -> tuple[int, int]:
        """The session (open, close) the minute is in, or the next one when it is in none."""
        self._check(minute)
        i = self._index(minute)
        if i >= 0 and minute < self._closes[i]:
            return self._opens[i], self._closes[i]
        return self._opens[i + 1], self._closes[i + 1]

    def next_open(self, minute: int) -> int:
        """The first open after the minute."""
        self._check(minute)
        return self._opens[self._index(minute) + 1]

    def last_trading_minute(self, minute: int) -> int:
        """The minute itself when open, else the last minute of the previous session."""
        self._check(minute)
        i = self._index(minute)
        if i >= 0 and minute < self._closes[i]:
            return minute
        return self._closes[i] - 1

    def minutes(self, after: int, through: int) -> Iterator[int]:
        """Every trading minute m with after < m <= through, in order."""
        if through <= after:
            return
        i = max(self._index(after + 1), 0)
        while i < len(self._opens) and self._opens[i] <= through:
            start = max(self._opens[i], after + 1)
            stop = min(self._closes[i] - 1, through)
            yield from range(start, stop + 1)
            i += 1


@cache
def sessions_for(code: str) -> Sessions:
    """The sessions of an exchange-calendars code (XNYS, XOSL, XPAR...), built once per process."""
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar(code, start=f"{FIRST_YEAR}-01-01", end=f"{LAST_YEAR}-12-31")
        schedule = cal.schedule
        nanos_per_minute = 60_000_000_000
        opens = schedule["open"].dt.tz_convert(None).to_numpy().astype("int64") // nanos_per_minute
        closes = schedule["close"].dt.tz_convert(None).to_numpy().astype("int64") // nanos_per_minute
    return Sessions(code, [int(m) for m in opens], [int(m) for m in closes])
