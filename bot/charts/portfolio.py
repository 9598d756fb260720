"""A person's shares as a picture: value over time beside what they cost, and a breakdown by holding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from babel import Locale
from babel.numbers import parse_pattern
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bot.charts import style
from bot.i18n import t

DAY = timedelta(days=1)
LONGEST = timedelta(days=30)


@dataclass(frozen=True)
class Point:
    """The portfolio in one currency at one moment: market value and cost basis, in minor units."""

    at: datetime
    value: int
    basis: int


@dataclass(frozen=True)
class Holding:
    """One position now: value at the bid and cost basis, in minor units of its currency."""

    symbol: str
    currency: str
    value: int
    basis: int

    @property
    def pnl(self) -> int:
        return self.value - self.basis


@dataclass(frozen=True)
class OpenOrder:
    """An order still waiting at the broker: when it was placed, for what."""

    at: datetime
    symbol: str
    side: str
    currency: str


@dataclass(frozen=True)
class Portfolio:
    """What the portfolio picture shows; `series` is one list of points per currency."""

    owner: str
    lang: str
    now: datetime
    series: dict[str, tuple[Point, ...]]
    holdings: tuple[Holding, ...]
    orders: tuple[OpenOrder, ...] = ()


def window(first_trade: datetime, now: datetime) -> tuple[datetime, timedelta]:
    """(start, step) of the value line: since the first trade, or the last 30 days when that is longer;
    hourly under three days, else every six hours under ten, else daily."""
    start = max(_utc(first_trade), _utc(now) - LONGEST)
    span = _utc(now) - start
    step = timedelta(hours=1) if span <= timedelta(days=3) else timedelta(hours=6) if span <= timedelta(days=10) else DAY
    return start, step


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def share_tenths(part: int, total: int) -> int:
    """`part` of `total` in tenths of a percent, rounded half up (exact integers)."""
    if total <= 0:
        return 0
    return (part * 2000 + total) // (2 * total)


def percent_text(tenths: int, lang: str) -> str:
    """Tenths of a percent as the locale writes a percentage, one decimal at most: 64.7%, 64,7 %."""
    loc = Locale.parse(style.locale_of(lang))
    pattern = parse_pattern(loc.percent_formats[None])
    pattern.frac_prec = (0, 1)
    return str(pattern.apply(Decimal(tenths) / 1000, loc))


def title(data: Portfolio) -> str:
    # i18n: the portfolio picture's title, e.g. "Alice's portfolio"
    return t(data.lang, "{name}'s portfolio", name=data.owner)


def _value_ticks(points: tuple[Point, ...], cur: str) -> list[int]:
    lows = [min(p.value, p.basis) for p in points] or [0]
    highs = [max(p.value, p.basis) for p in points] or [0]
    return style.nice_ticks(min(lows), max(highs), cur, 3, zero=False)


def figure(data: Portfolio) -> Figure:
    """The portfolio as a matplotlib Figure (not yet drawn): value panels per currency, then the breakdown."""
    currencies = [c for c in sorted(data.series) if data.series[c]]
    with style.styled():
        bands = [style.Band(2.3, 0.42, 0.82) for _ in currencies]
        labels = [style.money_tick(v, c, data.lang) for c in currencies for v in _value_ticks(data.series[c], c)]
        labels += [f"{h.symbol} " for h in data.holdings]
        if data.holdings:
            bands.append(style.Band(0.42 * len(data.holdings), 0.36, 0.12))
        margin = style.left_margin(labels)
        fig, axes = style.stack(bands, margin, title(data))
        for ax, cur in zip(axes, currencies, strict=False):
            _value_panel(ax, data, cur)
        if data.holdings:
            _breakdown(axes[-1], data, style.WIDTH_IN - margin - 0.3)
    return fig


def _value_panel(ax: object, data: Portfolio, cur: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    lang = data.lang
    points = data.series[cur]
    if not points:
        return
    left = points[0].at
    right = max(_utc(data.now), left + timedelta(hours=1))
    span = right - left

    def x(at: datetime) -> float:  # days since the first point: display only
        return (_utc(at) - left) / DAY

    xs = [x(p.at) for p in points]
    ax.plot(xs, [style.coord(p.value, cur) for p in points], color=style.LINE, linewidth=2.4, label=t(lang, "Value"))
    ax.step(xs, [style.coord(p.basis, cur) for p in points], where="post", color=style.BASIS, linewidth=1.8,
            linestyle=(0, (4, 3)), label=t(lang, "Cost"))
    ax.plot([xs[-1]], [style.coord(points[-1].value, cur)], "o", color=style.LINE, markersize=8, clip_on=False)
    orders = [o for o in data.orders if o.currency == cur]
    for o in orders:
        ax.axvline(max(x(o.at), 0.0), color=style.ORDER, linewidth=1.4, linestyle=":")
    ticks = _value_ticks(points, cur)
    ax.set_yticks([style.coord(v, cur) for v in ticks], [style.money_tick(v, cur, lang) for v in ticks])
    ax.set_ylim(style.coord(ticks[0], cur), style.coord(ticks[-1], cur))
    ax.grid(axis="y", color=style.GRID, linewidth=0.8)
    ax.tick_params(length=0)
    ax.tick_params(axis="x", pad=8)
    if span <= timedelta(days=2):
        marks = _hour_ticks(left, right)
        ax.set_xticks([x(m) for m in marks], [_hour_text(m, lang, i == 0) for i, m in enumerate(marks)])
    else:
        days = style.day_ticks(left, right, 5)
        ax.set_xticks([x(d) for d in days], [style.day_text(d.date(), lang) for d in days])
    ax.set_xlim(0, x(right))
    last = points[-1]
    ax.set_title(t(lang, "{cur} · value {amount}", cur=cur, amount=style.money(last.value, cur, lang)),
                 loc="left", fontsize=13, fontweight="bold", gid=f"value:{cur}")
    pnl = last.value - last.basis
    ax.set_title(t(lang, "P&L {amount}", amount=style.signed_money(pnl, cur, lang)), loc="right", fontsize=13,
                 fontweight="bold", color=style.MONEY_IN if pnl >= 0 else style.MONEY_OUT, gid=f"pnl:{cur}")
    handles = [Line2D([], [], color=style.LINE, linewidth=2.4, label=t(lang, "Value")),
               Line2D([], [], color=style.BASIS, linewidth=1.8, linestyle=(0, (4, 3)), label=t(lang, "Cost"))]
    if orders:
        what = ", ".join(t(lang, "buy {symbol}", symbol=o.symbol) if o.side == "buy" else t(lang, "sell {symbol}", symbol=o.symbol)
                         for o in orders[:3])
        handles.append(Line2D([], [], color=style.ORDER, linewidth=1.4, linestyle=":",
                              label=t(lang, "Open: {orders}", orders=what)))
    legend = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.36 / 2.3), ncol=len(handles), frameon=False,
                       fontsize=11, handlelength=2.2)
    legend.set_gid(f"legend:{cur}")


def _hour_ticks(left: datetime, right: datetime) -> list[datetime]:
    span_h = (right - left) / timedelta(hours=1)
    every = next(h for h in (1, 2, 3, 6, 12, 24) if span_h / h <= 5)
    first = left.replace(minute=0, second=0, microsecond=0)
    if first < left:
        first += timedelta(hours=1)
    while first.hour % every:
        first += timedelta(hours=1)
    out = []
    at = first
    while at <= right - (right - left) * 0.06:
        out.append(at)
        at += timedelta(hours=every)
    return out


def _hour_text(at: datetime, lang: str, with_day: bool) -> str:
    from babel.dates import format_time

    clock = str(format_time(at, "short", tzinfo=UTC, locale=style.locale_of(lang)))
    return f"{style.day_text(at.date(), lang)} {clock}" if with_day or (at.hour == 0 and at.minute == 0) else clock


def _breakdown(ax: object, data: Portfolio, room: float) -> None:
    """One bar per holding: its share of the value in its currency, green when in profit, red at a loss;
    the percent, the value and the profit or loss printed after the bar. `room`: the axes' width in inches."""
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    lang = data.lang
    totals: dict[str, int] = {}
    for h in data.holdings:
        totals[h.currency] = totals.get(h.currency, 0) + h.value
    rows = sorted(data.holdings, key=lambda h: (h.currency, -h.value, h.symbol))[::-1]
    pos = list(range(len(rows)))
    shares = [share_tenths(h.value, totals[h.currency]) for h in rows]
    texts = [f"{percent_text(s, lang)}   {style.money(h.value, h.currency, lang)}   {style.signed_money(h.pnl, h.currency, lang)}"
             for h, s in zip(rows, shares, strict=True)]
    pad = 0.08
    # inches per percent point, so that the longest bar and its text still fit
    scale = min([(room - pad - style.text_width(txt, 11) - 0.05) / max(s / 10, 0.1) for s, txt in zip(shares, texts, strict=True)]
                + [room * 0.6 / 100])
    ax.barh(pos, [s / 10 for s in shares], height=0.6,
            color=[style.MONEY_IN if h.pnl >= 0 else style.MONEY_OUT for h in rows])
    for p, h, s, txt in zip(pos, rows, shares, texts, strict=True):
        ax.text(s / 10 + pad / scale, p, txt, va="center", fontsize=11, gid=f"holding:{h.symbol}")
    style.label_bars(ax, pos, [h.symbol for h in rows], room / scale, t(lang, "By holding: share of value, profit or loss"))


def png(data: Portfolio) -> bytes:
    """The portfolio picture as PNG bytes."""
    return style.png_bytes(figure(data))
