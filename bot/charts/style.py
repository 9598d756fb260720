"""The look every chart shares: size, palette, fonts, money and date labels, and Figure -> PNG bytes.

Money stays integer minor units in here; `coord` turns an amount into a float only to place it on
the canvas (display, never arithmetic on money). Labels are written with the project's money
formatting (`bot.actions.money_text`, Babel) and Babel dates, in en, nb or fr.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from babel import Locale  # noqa: E402
from babel.dates import format_date, format_skeleton, format_time  # noqa: E402
from babel.numbers import parse_pattern  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
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
    "axes.titley": 1.0,  # titles at a fixed place over their axes: no tight-bbox measuring of every axis per draw
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
    # unhinted glyphs: at 150 dpi hinting changes nothing a phone shows, and skipping it draws text
    # (most of a chart's drawing time) about a fifth faster
    "text.hinting": "no_hinting",
    "text.parse_math": False,  # "$5 and $6" is money, not TeX
}


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, "en_US")


@contextmanager
def styled() -> Iterator[None]:
    """Build a figure inside this so every Text picks up the shared font and colours."""
    with matplotlib.rc_context(cast(Any, RC)):  # matplotlib types the keys as a Literal of every rc name
        yield


def new_figure(height_in: float, width_in: float = WIDTH_IN) -> Figure:
    """A Figure on its own Agg canvas (no pyplot, no global state). Laid out by hand (`stack`):
    matplotlib's constrained layout measures every label again and again and doubles the render time."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, facecolor=BG)
    FigureCanvasAgg(fig)
    return fig


@dataclass(frozen=True)
class Band:
    """One axes in a vertical stack: its own height, and room above (titles) and below (tick labels,
    legend), in inches."""

    height: float
    above: float = 0.0
    below: float = 0.0


def stack(bands: list[Band], left: float, title: str, right: float = 0.3, top: float = 0.5,
          bottom: float = 0.12) -> tuple[Figure, list[Any]]:
    """A figure WIDTH_IN wide with a bold title on top and one axes per band, stacked, all starting
    `left` inches from the edge so their y labels line up."""
    height = top + sum(b.above + b.height + b.below for b in bands) + bottom
    fig = new_figure(height)
    fig.text(0.22 / WIDTH_IN, 1 - 0.14 / height, title, ha="left", va="top", fontsize=16, fontweight="bold", gid="title")
    axes: list[Any] = []
    y = height - top
    for b in bands:
        y -= b.above + b.height
        axes.append(fig.add_axes((left / WIDTH_IN, y / height, (WIDTH_IN - left - right) / WIDTH_IN, b.height / height)))
        y -= b.below
    return fig, axes


@lru_cache(maxsize=1)
def _measurer() -> RendererAgg:
    return RendererAgg(8, 8, DPI)  # type: ignore[no-untyped-call]


@lru_cache(maxsize=4096)
def text_width(text: str, size: float, weight: str = "normal") -> float:
    """How wide `text` prints in inches (DejaVu Sans at `size` points), to lay out without a draw."""
    prop = FontProperties(family="DejaVu Sans", size=size, weight=weight)
    width, _, _ = _measurer().get_text_width_height_descent(text, prop, ismath=False)  # type: ignore[no-untyped-call]
    return float(width) / DPI


def left_margin(labels: list[str], size: float = 11) -> float:
    """Room for the widest y label, its tick pad and the edge, in inches."""
    return max((text_width(s, size) for s in labels), default=0.0) + 0.32


def draw(fig: Figure) -> None:
    """Lay out and draw the figure, under the shared style (text is rendered at draw time, so the style's
    text settings must hold then too, not only while the figure was built)."""
    with styled():
        fig.canvas.draw()


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG: fixed size and DPI, no timestamp or software tag, so equal input gives equal bytes."""
    draw(fig)
    return encode(fig)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode(fig: Figure) -> bytes:
    """The drawn canvas as PNG bytes: 8-bit RGB, unfiltered rows, zlib level 3, no metadata. A chart is flat
    colour, so unfiltered rows compress better than Pillow's filtered ones and take half the time."""
    rgba = np.asarray(fig.canvas.buffer_rgba())  # type: ignore[attr-defined]
    height, width = int(rgba.shape[0]), int(rgba.shape[1])
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type None on every row
    rows[:, 1:].reshape(height, width, 3)[...] = rgba[:, :, :3]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, colour type 2 (RGB)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 3))
            + _chunk(b"IEND", b""))


def coord(minor: int, currency: str) -> float:
    """Where an amount sits on an axis, in whole units. Display only: never used to compute money."""
    return float(Decimal(minor).scaleb(-exponent(currency)))


def money(minor: int, currency: str, lang: str) -> str:
    """An amount as the project writes money: $1,150.00, 1 150,00 kr, 1 150,00 € (a real minus sign)."""
    return money_text(minor, currency, lang).replace("-", "−")


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
    room = (end - start) * 0.06  # a label centred on the right edge would stick out of the picture
    while at <= end - room:
        out.append(at)
        at += timedelta(days=every)
    return out


def visible_texts(fig: Figure) -> list[tuple[Text, Any]]:
    """Every non-empty visible Text of the drawn figure with its bounding box in pixels (for tests)."""
    out: list[tuple[Text, Any]] = []
    with styled():  # measured with the text settings it is drawn with
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        fig.draw(renderer)
        for text in fig.findobj(Text):
            if not isinstance(text, Text) or not text.get_visible() or not text.get_text().strip():
                continue
            out.append((text, text.get_window_extent(renderer)))
    return out


def label_bars(ax: Any, pos: list[int] | range, labels: list[str], xmax: float, title: str) -> None:
    """Dress an axis of horizontal bars: names as ticks, no x axis, no frame, a muted title at left."""
    ax.set_yticks(pos, labels)
    ax.set_xlim(0, xmax)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.spines["left"].set_visible(False)
    ax.tick_params(length=0, labelsize=12)
    for lbl in ax.get_yticklabels():
        lbl.set_color(INK)
    ax.set_title(title, loc="left", fontsize=11, fontweight="normal", color=MUTED)
