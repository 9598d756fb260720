"""A month of a person's wallets as a picture: balance, money in and out, who it went to and came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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


def figure(data: Statement) -> Figure:
    """The statement as a matplotlib Figure (not yet drawn): one block of panels per currency."""
    lang = data.lang
    wallets = data.wallets or ()
    top = TOP_COUNTERPARTIES if len(wallets) <= 1 else 3
    with style.styled():
        ratios: list[float] = []
        for w in wallets:
            n = len(counterparties(w, lang, top))
            ratios += [2.4, 1.3] + ([0.45 + 0.38 * n] if n else [])
        fig = style.new_figure(0.8 + sum(ratios))
        fig.suptitle(title(data), x=0.02, ha="left", fontsize=16, fontweight="bold", gid="title")
        grid = fig.add_gridspec(len(ratios), 1, height_ratios=ratios)
        row = 0
        for w in wallets:
            n = len(counterparties(w, lang, top))
            _wallet(fig, grid, row, data, w, top)
            row += 2 + (1 if n else 0)
    return fig


def _wallet(fig: Figure, grid: object, row: int, data: Statement, w: Wallet, top: int) -> None:
    lang, cur = data.lang, w.currency
    left, line_start, until = window(data, w)
    right = max(min(_midnight(until) + DAY, _utc(data.end)), left + DAY)
    span_days = (right - left) / DAY
    size = timedelta(weeks=1) if span_days > 62 else DAY

    def x(at: datetime) -> float:  # days since the axis' left edge: display only
        return (_utc(at) - left) / DAY

    bal = fig.add_subplot(grid[row])  # type: ignore[index]
    flow = fig.add_subplot(grid[row + 1], sharex=bal)  # type: ignore[index]

    # balance: a step line from the opening (or the first activity) to now
    xs, ys = [x(line_start)], [w.opening]
    for m in w.movements:
        xs += [x(m.at)]
        ys += [m.balance]
    xs.append(x(until))
    ys.append(ys[-1])
    fy = [style.coord(v, cur) for v in ys]
    ticks = style.nice_ticks(min(ys), max(ys), cur, 3, zero=False)
    bal.step(xs, fy, where="post", color=style.LINE, linewidth=2.4, solid_joinstyle="miter")
    bal.fill_between(xs, fy, style.coord(ticks[0], cur), step="post", color=style.LINE, alpha=0.10, linewidth=0)
    bal.plot([xs[0]], [fy[0]], "o", color=style.LINE, markerfacecolor=style.BG, markersize=7, markeredgewidth=2)
    bal.plot([xs[-1]], [fy[-1]], "o", color=style.LINE, markersize=8)
    bal.set_yticks([style.coord(v, cur) for v in ticks], [style.money_tick(v, cur, lang) for v in ticks])
    bal.set_ylim(style.coord(ticks[0], cur), style.coord(ticks[-1], cur))
    bal.grid(axis="y", color=style.GRID, linewidth=0.8)
    bal.tick_params(labelbottom=False, length=0)
    label = t(lang, "Opening {amount}", amount=style.money(w.opening, cur, lang))
    bal.set_title(f"{cur} · {label}", loc="left", fontsize=12, fontweight="normal", color=style.MUTED, gid=f"opening:{cur}")
    bal.set_title(t(lang, "Closing {amount}", amount=style.money(w.closing, cur, lang)), loc="right",
                  fontsize=14, fontweight="bold", color=style.INK, gid=f"closing:{cur}")
    if not w.movements:
        bal.text(0.5, 0.5, t(lang, "No activity this month"), transform=bal.transAxes, ha="center", va="center",
                 color=style.MUTED, gid=f"empty:{cur}")

    # money in (up) and out (down), per day or per week
    buckets = _buckets(w, left, size)
    width = (size / DAY) * 0.72
    ins = [(k, got) for k, (got, _) in sorted(buckets.items()) if got]
    outs = [(k, spent) for k, (_, spent) in sorted(buckets.items()) if spent]
    off = (size / DAY) / 2
    if ins:
        flow.bar([k * (size / DAY) + off for k, _ in ins], [style.coord(v, cur) for _, v in ins], width=width, color=style.MONEY_IN)
    if outs:
        flow.bar([k * (size / DAY) + off for k, _ in outs], [style.coord(v, cur) for _, v in outs], width=width, color=style.MONEY_OUT)
    most_in = max((v for _, v in ins), default=0)
    most_out = min((v for _, v in outs), default=0)
    fticks = style.nice_ticks(most_out, most_in, cur, 4)
    fticks = sorted({fticks[0], 0, fticks[-1]})
    flow.set_yticks([style.coord(v, cur) for v in fticks], [style.money_tick(v, cur, lang) for v in fticks])
    flow.set_ylim(style.coord(fticks[0], cur), style.coord(fticks[-1], cur))
    flow.axhline(0, color=style.MUTED, linewidth=0.8)
    flow.grid(axis="y", color=style.GRID, linewidth=0.6)
    flow.tick_params(length=0)
    flow.tick_params(axis="x", pad=8)
    per = t(lang, "Money in and out per week") if size > DAY else t(lang, "Money in and out per day")
    flow.set_title(per, loc="left", fontsize=11, fontweight="normal", color=style.MUTED, gid=f"flow:{cur}")
    days = style.day_ticks(left, right, 5)
    flow.set_xticks([x(d) for d in days], [style.day_text(d.date(), lang) for d in days])
    flow.set_xlim(0, x(right))

    # the top counterparties: money in (green) and out (red) beside each name
    top_cp = counterparties(w, lang, top)
    if not top_cp:
        return
    cp = fig.add_subplot(grid[row + 2])  # type: ignore[index]
    names = [name for name, _, _ in top_cp][::-1]
    outs_v = [style.coord(-spent, cur) for _, _, spent in top_cp][::-1]
    ins_v = [style.coord(got, cur) for _, got, _ in top_cp][::-1]
    pos = list(range(len(names)))
    cp.barh(pos, outs_v, color=style.MONEY_OUT, height=0.62)
    cp.barh(pos, ins_v, left=outs_v, color=style.MONEY_IN, height=0.62)
    longest = max((o + i for o, i in zip(outs_v, ins_v, strict=True)), default=0.0) or 1.0
    for p, (_, got, spent), o, i in zip(pos, top_cp[::-1], outs_v, ins_v, strict=True):
        parts = ([style.signed_money(got, cur, lang)] if got else []) + ([style.signed_money(spent, cur, lang)] if spent else [])
        cp.text(o + i + longest * 0.02, p, "  ".join(parts), va="center", fontsize=11, color=style.INK, gid=f"cp:{cur}:{p}")
    cp.set_yticks(pos, names)
    cp.set_xlim(0, longest * 1.9)
    cp.set_ylim(-0.6, len(names) - 0.4)
    cp.set_xticks([])
    cp.spines["bottom"].set_visible(False)
    cp.spines["left"].set_visible(False)
    cp.tick_params(length=0, labelsize=12)
    for lbl in cp.get_yticklabels():
        lbl.set_color(style.INK)
    cp.set_title(t(lang, "Top counterparties"), loc="left", fontsize=11, fontweight="normal", color=style.MUTED)


def png(data: Statement) -> bytes:
    """The statement picture as PNG bytes."""
    return style.png_bytes(figure(data))
