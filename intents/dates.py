"""Recurrences (canonical RRULE) and one-off dates resolved against `now`, read from items."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from intents.items import Item

WEEKDAYS: tuple[str, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?\.?$")


@dataclass
class TimeReading:
    """What a message says about time: a one-off date, a repeat rule, and the items that said it."""

    when: datetime.date | None = None
    recurrence: str | None = None
    used: set[int] = field(default_factory=set)


def rrule(freq: str, interval: int = 1, byday: list[str] | None = None, bymonthday: int | None = None) -> str:
    """A canonical RFC 5545 rule: FREQ, INTERVAL (left out when 1), BYDAY, BYMONTHDAY."""
    parts = [f"FREQ={freq}"]
    if interval != 1:
        parts.append(f"INTERVAL={interval}")
    if byday:
        days = sorted(set(byday), key=WEEKDAYS.index)
        parts.append("BYDAY=" + ",".join(days))
    if bymonthday is not None:
        parts.append(f"BYMONTHDAY={bymonthday}")
    return ";".join(parts)


def _parse_rule(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";"):
        key, _, value = part.partition("=")
        out[key] = value
    return out


def _ordinal(it: Item) -> int | None:
    """The day number an item names as an ordinal: 5th, 1er, "5." (nb), first."""
    if it.kind == "ord" and it.value is not None:
        return int(it.value)
    if it.kind == "num" and it.dot and it.value is not None and it.decimals == 0:
        return int(it.value)
    if "ord" in it.cats:
        return int(it.cats["ord"])
    return None


def _day_number(it: Item) -> int | None:
    """A day of the month, written as an ordinal or a plain number 1-31."""
    n = _ordinal(it)
    if n is None and it.kind == "num" and it.ok and it.decimals == 0 and it.value is not None:
        n = int(it.value)
    if n is not None and (1 <= n <= 31 or n == -1):
        return n
    return None


def _next_weekday(today: datetime.date, code: str) -> datetime.date:
    """The first date strictly after today that falls on this weekday."""
    delta = (WEEKDAYS.index(code) - today.weekday()) % 7
    return today + datetime.timedelta(days=delta or 7)


def _next_month_day(today: datetime.date, day: int) -> datetime.date | None:
    """The next date after today whose day of the month is `day`."""
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = datetime.date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate > today:
            return candidate
        month += 1
        if month > 12:
            month, year = 1, year + 1
    return None


def _month_date(today: datetime.date, day: int, month: int, year: int | None) -> datetime.date | None:
    try:
        if year is not None:
            return datetime.date(year, month, day)
        candidate = datetime.date(today.year, month, day)
        if candidate < today:
            candidate = datetime.date(today.year + 1, month, day)
        return candidate
    except ValueError:
        return None


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, d)
        except ValueError:
            continue
    return day


def _skip(items: list[Item], j: int, cats: tuple[str, ...]) -> int:
    """The index of the first item at or after j that carries none of `cats` (fillers, 'the')."""
    while j < len(items) and items[j].kind == "phrase" and any(c in items[j].cats for c in cats) and not _is_timeword(items[j]):
        j += 1
    return j


def _is_timeword(it: Item) -> bool:
    return any(c in it.cats for c in ("wd", "wds", "unit", "month", "freq", "rel", "ord", "every"))


def _days(items: list[Item], j: int) -> tuple[list[str], int]:
    """Weekdays from j on, joined by 'and' or commas: (codes, index after the last)."""
    days: list[str] = []
    while j < len(items):
        it = items[j]
        code = it.cats.get("wd") or it.cats.get("wds")
        if code is None:
            break
        days.extend(code.split(","))
        k = j + 1
        if k + 1 < len(items) and "and" in items[k].cats and ("wd" in items[k + 1].cats or "wds" in items[k + 1].cats):
            j = k + 1
            continue
        j = k
        break
    return days, j


def _monthday_near(items: list[Item], i: int, end: int, used: set[int]) -> tuple[int | None, list[int]]:
    """An ordinal day right before (e.g. "1st of", "den 1.") or after ("on the 15th") a monthly rule."""
    j = end
    k = _skip(items, j, ("on", "filler", "of_month"))
    if k < len(items) and k not in used:
        n = _ordinal(items[k]) or (_day_number(items[k]) if k > j else None)
        if n is not None:
            return n, list(range(j, k + 1))
    k = i - 1
    taken: list[int] = []
    while k >= 0 and items[k].kind == "phrase" and ("of_month" in items[k].cats or "filler" in items[k].cats) and not _is_timeword(items[k]):
        taken.append(k)
        k -= 1
    if k >= 0 and k not in used:
        n = _ordinal(items[k])
        if n is None and taken and k > 0 and "on" in items[k - 1].cats:
            # "le 15 de chaque mois": a plain number after "le"/"on the"
            n = _day_number(items[k])
        if n is not None:
            taken.append(k)
            if k - 1 >= 0 and "on" in items[k - 1].cats:
                taken.append(k - 1)
            return n, taken
    return None, []


TIME_CATS = frozenset({"freq", "every", "other_every", "wd", "wds", "rel", "in", "month", "ord"})


def read_time(items: list[Item], today: datetime.date, seen: set[str] | frozenset[str] = TIME_CATS) -> TimeReading:
    """Recurrences first ("every monday", "hver 1. i måneden"), then one-off dates ("next friday").
    `seen` (the categories the items carry) lets a message that says nothing of time skip all this."""
    out = TimeReading()
    if seen is not TIME_CATS and TIME_CATS.isdisjoint(seen):
        return out
    used = out.used
    n = len(items)
    # Recurrences.
    for i, it in enumerate(items):
        if i in used or out.recurrence is not None:
            continue
        cats = it.cats
        if "freq" in cats:
            rule = _parse_rule(cats["freq"])
            freq = rule["FREQ"]
            interval = int(rule.get("INTERVAL", "1"))
            used.add(i)
            byday: list[str] = []
            bymonthday: int | None = None
            if freq == "WEEKLY":
                k = _skip(items, i + 1, ("on", "filler"))
                days, after = _days(items, k)
                if days:
                    byday = days
                    used.update(range(i + 1, after))
                else:
                    # "on mondays weekly", "mondays, weekly"
                    k = i - 1
                    while k >= 0 and ("on" in items[k].cats or "filler" in items[k].cats) and not _is_timeword(items[k]):
                        k -= 1
                    if k >= 0 and k not in used and ("wd" in items[k].cats or "wds" in items[k].cats):
                        byday = (items[k].cats.get("wd") or items[k].cats.get("wds") or "").split(",")
                        used.add(k)
            elif freq == "MONTHLY" and interval == 1:
                day, taken = _monthday_near(items, i, i + 1, used)
                if day is not None:
                    bymonthday = day
                    used.update(taken)
            out.recurrence = rrule(freq, interval, byday, bymonthday)
            continue
        if "every" in cats or "other_every" in cats:
            interval = 2 if "other_every" in cats else 1
            j = i + 1
            if j < n and "other" in items[j].cats:
                interval, j = 2, j + 1
            elif j < n and items[j].kind in ("num", "ord") and items[j].value is not None and j + 1 < n and "unit" in items[j + 1].cats:
                interval, j = int(items[j].value or 1), j + 1
            j = _skip(items, j, ("filler",))
            if j >= n:
                continue
            nxt = items[j]
            if "unit" in nxt.cats:
                used.update(range(i, j + 1))
                freq = nxt.cats["unit"]
                bymonthday = None
                byday = []
                if freq == "MONTHLY" and interval == 1:
                    day, taken = _monthday_near(items, i, j + 1, used)
                    if day is not None:
                        bymonthday = day
                        used.update(taken)
                elif freq == "WEEKLY":
                    k = _skip(items, j + 1, ("on", "filler"))
                    days, after = _days(items, k)
                    if days:
                        byday = days
                        used.update(range(j + 1, after))
                out.recurrence = rrule(freq, max(interval, 1), byday, bymonthday)
                continue
            if "wd" in nxt.cats or "wds" in nxt.cats:
                days, after = _days(items, j)
                used.update(range(i, after))
                out.recurrence = rrule("WEEKLY", interval, days)
                continue
            day = _ordinal(nxt)
            if day is not None:
                k = _skip(items, j + 1, ("of_month", "filler"))
                if k < n and (items[k].cats.get("unit") == "MONTHLY" or items[k].cats.get("freq") == "FREQ=MONTHLY"):
                    used.update(range(i, k + 1))
                    out.recurrence = rrule("MONTHLY", 1, None, day)
                    continue
        if "wds" in cats and i not in used:
            # Plural weekdays without "every": "on mondays", "på fredager".
            days, after = _days(items, i)
            used.update(range(i, after))
            if i > 0 and "on" in items[i - 1].cats:
                used.add(i - 1)
            out.recurrence = rrule("WEEKLY", 1, days)
            continue
        day = _ordinal(it)
        if day is not None and i not in used:
            # "the 1st of every month", "le 1er de chaque mois"
            k = _skip(items, i + 1, ("of_month", "filler"))
            if k < n and k > i + 1 and items[k].cats.get("freq") == "FREQ=MONTHLY":
                used.update(range(i, k + 1))
                out.recurrence = rrule("MONTHLY", 1, None, day)
                continue
    # One-off dates.
    for i, it in enumerate(items):
        if i in used or out.when is not None:
            continue
        cats = it.cats
        if "rel" in cats:
            offset = int(cats["rel"])
            used.add(i)
            if offset > 0:
                out.when = today + datetime.timedelta(days=offset)
            continue
        if "in" in cats and i + 2 < n and i + 1 not in used:
            num, unit = items[i + 1], items[i + 2]
            count: int | None = None
            if num.kind == "num" and num.value is not None and num.decimals == 0:
                count = int(num.value)
            elif "one" in num.cats:
                count = 1
            if count is not None and "unit" in unit.cats and count < 1000:
                freq = unit.cats["unit"]
                if freq == "DAILY":
                    out.when = today + datetime.timedelta(days=count)
                elif freq == "WEEKLY":
                    out.when = today + datetime.timedelta(weeks=count)
                elif freq == "MONTHLY":
                    out.when = _add_months(today, count)
                else:
                    out.when = _add_months(today, 12 * count)
                used.update((i, i + 1, i + 2))
                continue
        if "wd" in cats:
            code = cats["wd"].split(",")[0]
            out.when = _next_weekday(today, code)
            used.add(i)
            if i > 0 and ("next" in items[i - 1].cats or "on" in items[i - 1].cats):
                used.add(i - 1)
            if i + 1 < n and "next" in items[i + 1].cats:
                used.add(i + 1)
            continue
        if "month" in cats:
            month = int(cats["month"])
            day_i: int | None = None
            if i > 0 and i - 1 not in used and _day_number(items[i - 1]) is not None:
                day_i = i - 1
            elif i + 1 < n and i + 1 not in used and _day_number(items[i + 1]) is not None:
                day_i = i + 1
            if day_i is not None:
                day = _day_number(items[day_i])
                year: int | None = None
                after = max(i, day_i) + 1
                if after < n and items[after].kind == "num" and items[after].value is not None and 2000 <= items[after].value <= 2100 and items[after].decimals == 0:  # type: ignore[operator]
                    year = int(items[after].value or 0)
                    used.add(after)
                if day is not None and day > 0:
                    out.when = _month_date(today, day, month, year)
                    used.update((i, day_i))
                    first = min(i, day_i)
                    if first > 0 and "on" in items[first - 1].cats:
                        used.add(first - 1)
                continue
        marker = i - 1
        while marker > 0 and items[marker].kind == "phrase" and "filler" in items[marker].cats and "on" not in items[marker].cats:
            marker -= 1  # "on the 5th"
        if it.kind in ("ord", "word", "num") and i > 0 and "on" in items[marker].cats and i - marker <= 2:
            if i + 1 < n and "month" in items[i + 1].cats:
                continue  # "den 24. desember": the month reads it
            day = _ordinal(it)
            if day is not None and day > 0:
                out.when = _next_month_day(today, day)
                used.update(range(marker, i + 1))
                continue
            m = _NUMERIC_DATE.match(it.text)
            if m is not None:
                d, mo = int(m.group(1)), int(m.group(2))
                y = int(m.group(3)) if m.group(3) else None
                if y is not None and y < 100:
                    y += 2000
                if 1 <= mo <= 12:
                    out.when = _month_date(today, d, mo, y)
                    used.update(range(marker, i + 1))
                continue
    return out
