"""Where a series ends, read from the person's words: "10 times", "until March" (en, nb, fr)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

MONTHS: dict[str, int] = {}
for _names in (
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"),
    ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
     "november", "desember"),
    ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
     "novembre", "décembre"),
):
    for _i, _name in enumerate(_names, start=1):
        MONTHS[_name] = _i
        MONTHS[_name[:3]] = _i
MONTHS["fevrier"], MONTHS["aout"], MONTHS["decembre"] = 2, 8, 12

_MONTH = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_TIMES = re.compile(r"\b(\d{1,4})\s*(?:times|x|ganger|gangar|fois)\b", re.IGNORECASE)
_UNTIL = re.compile(
    r"\b(?:until|till|through|to the end of|frem til|fram til|inntil|til og med|til|jusqu['’]\s*(?:en|à|au|a)?)\s*"
    r"(?:(\d{1,2})\.?\s+)?(" + _MONTH + r")\b\.?(?:\s+(\d{4}))?",
    re.IGNORECASE,
)
_UNTIL_ISO = re.compile(r"\b(?:until|til|inntil|jusqu['’]\s*(?:au)?)\s*(\d{4}-\d{2}-\d{2})\b", re.IGNORECASE)


@dataclass(frozen=True)
class End:
    """How a series ends: after `count` runs, on the local day `until` (inclusive), or never (both None)."""

    count: int | None = None
    until: date | None = None


def read_end(text: str, today: date) -> End:
    """The end a message gives its series; a month without a day means to its last day, the next such month."""
    m = _TIMES.search(text)
    if m and int(m.group(1)) > 0:
        return End(count=int(m.group(1)))
    iso = _UNTIL_ISO.search(text)
    if iso:
        try:
            return End(until=date.fromisoformat(iso.group(1)))
        except ValueError:
            return End()
    u = _UNTIL.search(text)
    if not u:
        return End()
    month = MONTHS[u.group(2).lower()]
    year = int(u.group(3)) if u.group(3) else (today.year if month >= today.month else today.year + 1)
    last = calendar.monthrange(year, month)[1]
    day = min(int(u.group(1)), last) if u.group(1) else last
    until = date(year, month, day)
    if until < today and not u.group(3):
        until = date(year + 1, month, min(day, calendar.monthrange(year + 1, month)[1]))
    return End(until=until)
