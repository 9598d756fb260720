"""The look every chart shares: size, palette, fonts, money and date labels, and Figure -> PNG bytes.

Money stays integer minor units in here; `coord` turns an amount into a float only to place it on
the canvas (display, never arithmetic on money). Labels are written with the project's money
formatting (`bot.actions.money_text`, Babel) and Babel dates, in en, nb or fr.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg")

from babel import Locale  # noqa: E402
from babel.dates import format_date, format_skeleton, format_time  # noqa: E402
from babel.numbers import parse_pattern  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from bot.actions import money_text  # noqa: E402
from bot.i18n import LOCALES  # noqa: E402
from ledger.money import exponent  # noqa: E402

# 7.2 in x 150 dpi = 1080 px wide: a phone's full width without Telegram scaling it up or down much.
WIDTH_IN = 7.2
DPI = 150

# A neutral light card with strong contrast: readable pasted into a light or a dark chat theme
# (a transparent PNG would put dark ink on a dark background).
BG = "#F6F7F9"
INK = "#17191C"
MUTED = "#565D68"
GRID = "#D5D9E0"
LINE = "#1F5FD1"
BASIS = "#7A4FD0"
MONEY_IN = "#127A3A"
MONEY_OUT = "#C4281C"
ORDER = "#A85D00"

RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib: ø, é, €, −, no network
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "axes.facecolor": BG,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "figure.facecolor": BG,
    "text.color": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "path.simplify": True,
    "text.parse_math": False,  # "$5 and $6" is money, not TeX
}


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, "en_US")


@contextmanager
def styled() -> Iterator[None]:
    """Build a figure inside this so every Text picks up the shared font and colours."""
    with matplotlib.rc_context(RC):
        yield


def new_figure(height_in: float, width_in: float = WIDTH_IN) -> Figure:
    """A Figure on its own Agg canvas (no pyplot, no global state), laid out to avoid overlaps."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, facecolor=BG, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG: fixed size and DPI, no timestamp or software tag, so equal input gives equal bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor=BG, metadata={"Software": None})
    return buf.getvalue()


def coord(minor: int, currency: str) -> float:
    """Where an amount sits on an axis, in whole units. Display only: never used to compute money."""
    return float(Decimal(minor).scaleb(-exponent(currency)))


def money(minor: int, currency: str, lang: str) -> str:
    """An amount as the project writes money: $1,150.00, 1 150,00 kr, 1 150,00 €."""
    return money_text(minor, currency, lang)


def signed_money(minor: int, currency: str, lang: str) -> str:
    """+$20.00 or −$20.00 (a real minus sign)."""
    return ("+" if minor >= 0 else "−") + money_text(abs(minor), currency, lang)


@lru_cache(maxsize=64)
def _whole_pattern(loc: str) -> Any:
    pattern = parse_pattern(Locale.parse(loc).currency_formats["standard"])
    pattern.frac_prec = (0, 0)
    return pattern


def money_tick(minor: int, currency: str, lang: str) -> str:
    """An axis tick: whole units without decimals when the tick is whole ($1,000, 1 000 kr), else full money."""
    unit = 10 ** exponent(currency)
    if minor % unit:
        return money_text(minor, currency, lang)
    loc = locale_of(lang)
    text = _whole_pattern(loc).apply(Decimal(minor // unit), Locale.parse(loc), currency=currency, currency_digits=False)
    return str(text).replace("-", "−")


def nice_ticks(lo: int, hi: int, currency: str, count: int = 4, zero: bool = True) -> list[int]:
    """About `count` round tick values in minor units covering [lo, hi] (and 0 when `zero`);
    whole units once the range spans a few of them."""
    lo, hi = (min(lo, hi, 0), max(lo, hi, 0)) if zero else (min(lo, hi), max(lo, hi))
    span = hi - lo
    unit = 10 ** exponent(currency)
    if span == 0:
        span = max(abs(hi), unit)
    raw = span / count
    step = 1
    while True:
        for m in (1, 2, 5):
            if step * m >= raw:
                step *= m
                break
        else:
            step *= 10
            continue
        break
    if span >= 3 * unit and step < unit:
        step = unit
    first = (lo // step) * step
    last = -((-hi) // step) * step
    if last == first:
        last = first + step
    return list(range(first, last + step, step))


def day_text(day: date, lang: str) -> str:
    """A short localised day: Nov 3 / 3. nov. / 3 nov."""
    return str(format_skeleton("MMMd", day, locale=locale_of(lang)))


def month_text(day: date, lang: str) -> str:
    """The month and year as in a title: November 2026 / november 2026 / novembre 2026."""
    return str(format_date(day, "LLLL y", locale=locale_of(lang)))


def moment_text(at: datetime, lang: str, tz: Any = UTC) -> str:
    """A date and time with its time zone: Nov 18, 2026, 15:00 UTC."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    loc = locale_of(lang)
    local = aware.astimezone(tz)
    day = format_date(local.date(), "medium", locale=loc)
    clock = format_time(local, "short", tzinfo=tz, locale=loc)
    zone = local.tzname() or "UTC"
    return f"{day} {clock} {zone}"


def day_ticks(start: datetime, end: datetime, most: int = 6) -> list[datetime]:
    """Midnights (UTC) between start and end, every n days so that at most `most` show."""
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    if first < start:
        first += timedelta(days=1)
    days = max((end - first).days, 0) + 1
    every = max(1, -(-days // most))
    out: list[datetime] = []
    at = first
    while at <= end:
        out.append(at)
        at += timedelta(days=every)
    return out


def visible_texts(fig: Figure) -> list[tuple[Text, Any]]:
    """Every non-empty visible Text of the drawn figure with its bounding box in pixels (for tests)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    fig.draw(renderer)
    out: list[tuple[Text, Any]] = []
    for text in fig.findobj(Text):
        if not isinstance(text, Text) or not text.get_visible() or not text.get_text().strip():
            continue
        out.append((text, text.get_window_extent(renderer)))
    return out
