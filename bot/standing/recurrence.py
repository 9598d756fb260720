"""When a standing order runs: RRULE dates in a person's time zone at a local hour, DST-safe, in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

ONE_OFF = "FREQ=DAILY;COUNT=1"


class UnknownZone(ValueError):
    """A time zone name the tz database does not know."""


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name ("Europe/Oslo"); UnknownZone when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownZone(name) from exc


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall time as one UTC instant (PEP 495, fold=0): a doubled hour (autumn) gives its
    first instant, a wall time in the spring-forward gap gives the instant as many minutes past the jump
    (02:30 on the night clocks go 02:00 -> 03:00 runs at 03:30). One instant a wall time: never two, never none."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


@dataclass(frozen=True)
class Recurrence:
    """A standing order's timing: an RRULE (without DTSTART) from a local anchor, in a zone, with an optional end."""

    rule: str  # canonical RRULE body, e.g. FREQ=WEEKLY;BYDAY=MO; ONE_OFF for a single date
    anchor: datetime  # naive local wall time of the first possible run (date + the local hour)
    tz: str
    count: int | None = None  # "10 times"
    until: date | None = None  # "until March": the last local day a run may fall on

    def _rrule(self) -> rrule:
        body = self.rule
        if self.count is not None and "COUNT=" not in body:
            body += f";COUNT={self.count}"
        parsed = rrulestr(f"RRULE:{body}", dtstart=self.anchor)
        assert isinstance(parsed, rrule)
        if self.until is not None and "COUNT=" not in body:
            parsed = parsed.replace(until=datetime.combine(self.until, time(23, 59, 59)))
        return parsed

    def between(self, after: datetime, upto: datetime) -> list[datetime]:
        """Every run strictly after `after` and at or before `upto` (aware UTC instants), oldest first."""
        tz = zone(self.tz)
        # local wall times around the window, a day of margin for the zone's offset
        lo = after.astimezone(tz).replace(tzinfo=None) - timedelta(days=2)
        hi = upto.astimezone(tz).replace(tzinfo=None) + timedelta(days=2)
        out = []
        for local in self._rrule().between(max(lo, self.anchor - timedelta(seconds=1)), hi, inc=True):
            at = to_utc(local, tz)
            if after < at <= upto:
                out.append(at)
        return out

    def next_after(self, after: datetime, n: int = 1) -> list[datetime]:
        """The next `n` runs strictly after `after` (fewer when the series ends)."""
        tz = zone(self.tz)
        out: list[datetime] = []
        cursor = max(after.astimezone(tz).replace(tzinfo=None) - timedelta(days=2), self.anchor - timedelta(seconds=1))
        rr = self._rrule()
        while len(out) < n:
            local = rr.after(cursor, inc=False)
            if local is None:
                break
            cursor = local
            at = to_utc(local, tz)
            if at > after:
                out.append(at)
        return out


def anchor_for(now: datetime, tz: str, hour: int, minute: int = 0, on: date | None = None) -> datetime:
    """The naive local wall time a new series starts from: `on` at the hour, else the first such time after now."""
    z = zone(tz)
    if on is not None:
        return datetime.combine(on, time(hour, minute))
    local_now = now.astimezone(z).replace(tzinfo=None)
    start = datetime.combine(local_now.date(), time(hour, minute))
    return start if start > local_now else start + timedelta(days=1)
