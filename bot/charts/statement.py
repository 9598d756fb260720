"""A month of a person's wallets as a picture: balance, money in and out, who it went to and came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from matplotlib.figure import Figure

from bot.charts import style
from bot.i18n import t

DAY = timedelta(days=1)
TOP_COUNTERPARTIES = 5


@dataclass(frozen=True)
class Movement:
    """One posted movement: signed minor units (+ came in), the running balance after it, the other side."""

    at: datetime
    amount: int
    balance: int
    counterparty: str


@dataclass(frozen=True)
class Wallet:
    """One currency's month: the balance before the period and its movements, oldest first."""

    currency: str
    opening: int
    movements: tuple[Movement, ...]

    @property
    def closing(self) -> int:
        return self.movements[-1].balance if self.movements else self.opening


@dataclass(frozen=True)
class Statement:
    """What the statement picture shows: whose, which period (until = now inside the current month)."""

    owner: str
    lang: str
    start: datetime
    end: datetime
    until: datetime
    wallets: tuple[Wallet, ...]


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _midnight(at: datetime) -> datetime:
    at = _utc(at).astimezone(UTC)
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


def title(data: Statement) -> str:
    # i18n: the statement picture's title, e.g. "Alice's wallet, November 2026"
    return t(data.lang, "{name}'s wallet, {month}", name=data.owner, month=style.month_text(data.start.date(), data.lang))


def window(data: Statement, w: Wallet) -> tuple[datetime, datetime, datetime]:
    """(axis left, line start, line end): from the opening balance at the period's start, or from the
    first activity when there was nothing before; to now inside the current month, at least one day wide."""
    start, end = _utc(data.start), _utc(data.end)
    until = min(max(_utc(data.until), start), end)
    if w.opening != 0 or not w.movements:
        line_start = start
    else:
        line_start = _utc(w.movements[0].at)
    until = max(until, _utc(w.movements[-1].at)) if w.movements else until
    left = _midnight(line_start)
    return left, line_start, until


def _buckets(w: Wallet, left: datetime, size: timedelta) -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    for m in w.movements:
        k = int((_utc(m.at) - left) / size)
        got, spent = out.get(k, (0, 0))
        out[k] = (got + m.amount, spent) if m.amount > 0 else (got, spent + m.amount)
    return out


def counterparties(w: Wallet, lang: str, top: int = TOP_COUNTERPARTIES) -> list[tuple[str, int, int]]:
    """(name, money in, money out as a negative number) for the counterparties with the most volume."""
    totals: dict[str, tuple[int, int]] = {}
    for m in w.movements:
        name = m.counterparty or t(lang, "other")
        got, spent = totals.get(name, (0, 0))
        totals[name] = (got + m.amount, spent) if m.amount > 0 else (got, spent + m.amount)
    ranked = sorted(totals.items(), key=lambda kv: (-(kv[1][0] - kv[1][1]), kv[0]))
    return [(name, got, spent) for name, (got, spent) in ranked[:top]]


def _balance_points(data: Statement, w: Wallet) -> tuple[datetime, datetime, datetime, list[datetime], list[int]]:
    left, line_start, until = window(data, w)
    right = max(min(_midnight(until) + DAY, _utc(data.end)), left + DAY)
    ats, ys = [line_start], [w.opening]
    for m in w.movements:
        ats.append(_utc(m.at))
        ys.append(m.balance)
    ats.append(until)
    ys.append(ys[-1])
    return left, right, until, ats, ys


def _bucket_size(left: datetime, right: datetime) -> timedelta:
    return timedelta(weeks=1) if (right - left) / DAY > 62 else DAY


def _flow_ticks(buckets: dict[int, tuple[int, int]], cur: str) -> list[int]:
    most_in = max((got for got, _ in buckets.values()), default=0)
    most_out = min((spent for _, spent in buckets.values()), default=0)
    ticks = style.nice_ticks(most_out, most_in, cur, 4)
    return sorted({ticks[0], 0, ticks[-1]})


def _cp_text(got: int, spent: int, cur: str, lang: str) -> str:
    parts = ([style.signed_money(got, cur, lang)] if got else []) + ([style.signed_money(spent, cur, lang)] if spent else [])
    return "  ".join(parts)


def figure(data: Statement) -> Figure:
    """The statement as a matplotlib Figure (not yet drawn): one block of panels per currency, stacked."""
    lang = data.lang
    wallets = data.wallets or ()
    top = TOP_COUNTERPARTIES
    with style.styled():
        bands: list[style.Band] = []
        labels: list[str] = []
        plans = []
        for i, w in enumerate(wallets):
            cur = w.currency
            compact = i > 0  # the other currencies as small multiples: their balance line only
            left, right, until, ats, ys = _balance_points(data, w)
            size = _bucket_size(left, right)
            buckets = _buckets(w, left, size)
            bticks = style.nice_ticks(min(ys), max(ys), cur, 2 if compact else 3, zero=False)
            fticks = _flow_ticks(buckets, cur)
            cps = [] if compact else counterparties(w, lang, top)
            labels += [style.money_tick(v, cur, lang) for v in bticks + ([] if compact else fticks)]
            labels += [f"{name} " for name, _, _ in cps]  # names print 1 pt larger: a space's worth
            if compact:
                bands.append(style.Band(1.25, 0.7, 0.4))
            else:
                bands += [style.Band(2.0, 0.62, 0.06), style.Band(1.05, 0.36, 0.38)]
            if cps:
                bands.append(style.Band(0.36 * len(cps), 0.34, 0.12))
            plans.append((w, left, right, until, ats, ys, size, buckets, bticks, fticks, cps, compact))
        margin = style.left_margin(labels)
        fig, axes = style.stack(bands, margin, title(data))
        k = 0
        for w, left, right, until, ats, ys, size, buckets, bticks, fticks, cps, compact in plans:
            n = 1 if compact else 3 if cps else 2
            _wallet(axes[k:k + n], data, w, left, right, until, ats, ys, size, buckets, bticks, fticks, cps, margin)
            k += n
    return fig


def _wallet(axes: list[Any], data: Statement, w: Wallet, left: datetime, right: datetime, until: datetime,
            ats: list[datetime], ys: list[int], size: timedelta, buckets: dict[int, tuple[int, int]],
            bticks: list[int], fticks: list[int], cps: list[tuple[str, int, int]], margin: float) -> None:
    lang, cur = data.lang, w.currency

    def x(at: datetime) -> float:  # days since the axis' left edge: display only
        return (_utc(at) - left) / DAY

    bal = axes[0]
    # balance: a step line from the opening (or the first activity) to now
    xs = [x(at) for at in ats]
    fy = [style.coord(v, cur) for v in ys]
    floor = style.coord(bticks[0], cur)
    bal.step(xs, fy, where="post", color=style.LINE, linewidth=2.4, solid_joinstyle="miter")
    bal.fill_between(xs, fy, floor, step="post", color=style.LINE, alpha=0.10, linewidth=0)
    bal.plot([xs[0]], [fy[0]], "o", color=style.LINE, markerfacecolor=style.BG, markersize=7, markeredgewidth=2, clip_on=False)
    bal.plot([xs[-1]], [fy[-1]], "o", color=style.LINE, markersize=8, clip_on=False)
    bal.set_yticks([style.coord(v, cur) for v in bticks], [style.money_tick(v, cur, lang) for v in bticks])
    bal.set_ylim(floor, style.coord(bticks[-1], cur))
    bal.set_xlim(0, x(right))
    days = style.day_ticks(left, right, 5)
    if len(axes) == 1:  # a small multiple: no bars below, the days go under the balance
        bal.set_xticks([x(d) for d in days], [style.day_text(d.date(), lang) for d in days])
        bal.tick_params(axis="x", pad=8)
    else:
        bal.set_xticks([])
    bal.grid(axis="y", color=style.GRID, linewidth=0.8)
    bal.tick_params(length=0)
    # two lines above the balance: the closing balance (what people look for), then the opening one
    closing = t(lang, "Closing {amount}", amount=style.money(w.closing, cur, lang))
    bal.set_title(closing, loc="left", fontsize=14, fontweight="bold", color=style.INK, pad=24, gid=f"closing:{cur}")
    bal.set_title(cur, loc="right", fontsize=14, fontweight="bold", color=style.MUTED, pad=24)
    bal.annotate(t(lang, "Opening {amount}", amount=style.money(w.opening, cur, lang)), xy=(0, 1), xycoords="axes fraction",
                 xytext=(0, 6), textcoords="offset points", va="bottom", fontsize=11, color=style.MUTED, gid=f"opening:{cur}")
    if not w.movements:
        bal.text(0.5, 0.5, t(lang, "No activity this month"), transform=bal.transAxes, ha="center", va="center",
                 color=style.MUTED, gid=f"empty:{cur}")

    if len(axes) == 1:
        return
    flow = axes[1]
    # money in (up) and out (down), per day or per week
    unit = size / DAY
    ins = [(k, got) for k, (got, _) in sorted(buckets.items()) if got]
    outs = [(k, spent) for k, (_, spent) in sorted(buckets.items()) if spent]
    # one collection of thick lines a colour instead of a patch a bar: a month of bars in a few ms
    points = (style.WIDTH_IN - margin - 0.3) * 72 * unit / x(right) * 0.72
    for series, colour in ((ins, style.MONEY_IN), (outs, style.MONEY_OUT)):
        if series:
            flow.vlines([k * unit + unit / 2 for k, _ in series], 0, [style.coord(v, cur) for _, v in series],
                        colors=colour, linewidth=points, capstyle="butt")
    flow.set_yticks([style.coord(v, cur) for v in fticks], [style.money_tick(v, cur, lang) for v in fticks])
    flow.set_ylim(style.coord(fticks[0], cur), style.coord(fticks[-1], cur))
    flow.axhline(0, color=style.MUTED, linewidth=0.8)
    flow.grid(axis="y", color=style.GRID, linewidth=0.6)
    flow.tick_params(length=0)
    flow.tick_params(axis="x", pad=8)
    per = t(lang, "Money in and out per week") if size > DAY else t(lang, "Money in and out per day")
    flow.set_title(per, loc="left", fontsize=11, fontweight="normal", color=style.MUTED, gid=f"flow:{cur}")
    flow.set_xticks([x(d) for d in days], [style.day_text(d.date(), lang) for d in days])
    flow.set_xlim(0, x(right))

    # the top counterparties: money out (red) and in (green) beside each name, the amounts after the bar
    if not cps:
        return
    cp = axes[2]
    rows = cps[::-1]
    names = [name for name, _, _ in rows]
    outs_v = [style.coord(-spent, cur) for _, _, spent in rows]
    ins_v = [style.coord(got, cur) for _, got, _ in rows]
    texts = [_cp_text(got, spent, cur, lang) for _, got, spent in rows]
    room = style.WIDTH_IN - margin - 0.3  # the axes' width in inches
    pad = 0.08
    scale = min((room - pad - style.text_width(txt, 11) - 0.05) / (o + i) for o, i, txt in zip(outs_v, ins_v, texts, strict=True)
                if o + i > 0) if any(o + i > 0 for o, i in zip(outs_v, ins_v, strict=True)) else 1.0
    scale = min(scale, room * 0.6 / max(max(o + i for o, i in zip(outs_v, ins_v, strict=True)), 1e-9))
    pos = list(range(len(names)))
    cp.barh(pos, outs_v, color=style.MONEY_OUT, height=0.62)
    cp.barh(pos, ins_v, left=outs_v, color=style.MONEY_IN, height=0.62)
    for p, o, i, txt in zip(pos, outs_v, ins_v, texts, strict=True):
        cp.text(o + i + pad / scale, p, txt, va="center", fontsize=11, color=style.INK, gid=f"cp:{cur}:{len(pos) - 1 - p}")
    style.label_bars(cp, pos, names, room / scale, t(lang, "Top counterparties"))


def png(data: Statement) -> bytes:
    """The statement picture as PNG bytes."""
    return style.png_bytes(figure(data))
