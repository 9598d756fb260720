"""Who owes whom in a group: the fewest settle-up payments (exact, integer minor units) and their picture.

Not wired yet: it is for the answer to "who owes what?" once group debts exist (issue 14).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from bot.charts import style
from bot.i18n import t

EXACT_UP_TO = 14  # people with a non-zero balance in one currency: 2^14 subsets is still instant


@dataclass(frozen=True)
class Debt:
    """`debtor` owes `creditor` `amount` minor units of `currency`."""

    debtor: str
    creditor: str
    amount: int
    currency: str


def net_balances(debts: Iterable[Debt]) -> dict[str, dict[str, int]]:
    """Per currency, what each person is owed (+) or owes (−), in minor units; zero balances dropped."""
    out: dict[str, dict[str, int]] = {}
    for d in debts:
        if not isinstance(d.amount, int) or isinstance(d.amount, bool):
            raise TypeError("debt amounts are integer minor units")
        if d.amount < 0:
            raise ValueError("a debt amount cannot be negative")
        if d.debtor == d.creditor or d.amount == 0:
            continue
        nets = out.setdefault(d.currency, {})
        nets[d.debtor] = nets.get(d.debtor, 0) - d.amount
        nets[d.creditor] = nets.get(d.creditor, 0) + d.amount
    kept = {cur: {p: v for p, v in sorted(nets.items()) if v} for cur, nets in sorted(out.items())}
    return {cur: nets for cur, nets in kept.items() if nets}


def simplify(debts: Iterable[Debt]) -> list[Debt]:
    """The fewest payments that settle every debt: each person pays or receives exactly their net balance.

    Fewest is exact for up to EXACT_UP_TO people with a non-zero balance in a currency: the people are
    split into as many groups that settle among themselves (sum zero) as possible, and a group of k
    settles in k − 1 payments, largest debtor to largest creditor. Above that, one greedy pass (at most
    n − 1 payments). Deterministic: ties go by name.
    """
    out: list[Debt] = []
    for cur, nets in net_balances(debts).items():
        people = sorted(nets)
        values = [nets[p] for p in people]
        groups = _zero_sum_groups(values) if len(people) <= EXACT_UP_TO else [list(range(len(people)))]
        for group in groups:
            out += _settle([people[i] for i in group], [values[i] for i in group], cur)
    return out


def _zero_sum_groups(values: list[int]) -> list[list[int]]:
    """The most groups (lists of indices) with zero sums that partition `values` (which sum to zero)."""
    n = len(values)
    if n == 0:
        return []
    size = 1 << n
    total = [0] * size
    for m in range(1, size):
        low = m & -m
        total[m] = total[m ^ low] + values[low.bit_length() - 1]
    best = [0] * size
    for m in range(1, size):
        most = 0
        rest = m
        while rest:
            low = rest & -rest
            rest ^= low
            if best[m ^ low] > most:
                most = best[m ^ low]
        best[m] = most + (total[m] == 0)
    order: list[int] = []
    m = size - 1
    while m:
        rest = m
        while rest:  # the lowest index whose removal keeps the optimum
            low = rest & -rest
            rest ^= low
            if best[m ^ low] + (total[m] == 0) == best[m]:
                order.append(low.bit_length() - 1)
                m ^= low
                break
    order.reverse()
    groups: list[list[int]] = []
    current: list[int] = []
    running = 0
    for i in order:
        current.append(i)
        running += values[i]
        if running == 0:
            groups.append(sorted(current))
            current = []
    return groups


def _settle(people: list[str], values: list[int], currency: str) -> list[Debt]:
    owes = [(-v, p) for p, v in zip(people, values, strict=True) if v < 0]
    owed = [(v, p) for p, v in zip(people, values, strict=True) if v > 0]
    out: list[Debt] = []
    while owes and owed:
        owes.sort(key=lambda e: (-e[0], e[1]))
        owed.sort(key=lambda e: (-e[0], e[1]))
        pay = min(owes[0][0], owed[0][0])
        out.append(Debt(owes[0][1], owed[0][1], pay, currency))
        owes[0] = (owes[0][0] - pay, owes[0][1])
        owed[0] = (owed[0][0] - pay, owed[0][1])
        owes = [e for e in owes if e[0]]
        owed = [e for e in owed if e[0]]
    return out


def title(lang: str, group: str) -> str:
    # i18n: the group debts picture's title, e.g. "Who owes whom in Trip to Bergen"
    return t(lang, "Who owes whom in {group}", group=group)


def figure(debts: Iterable[Debt], lang: str, group: str) -> Figure:
    """Everyone on a circle, an arrow per settle-up payment (debtor to creditor) with its amount, and
    the same payments as a list below."""
    debts = list(debts)
    payments = simplify(debts)
    nets = net_balances(debts)
    currencies = sorted(nets) or [""]
    with style.styled():
        bands: list[style.Band] = []
        for cur in currencies:
            n = sum(1 for p in payments if p.currency == cur)
            bands += [style.Band(5.4, 0.1, 0.1), style.Band(0.36 * (max(n, 1) + 1.2), 0.0, 0.1)]
        fig, axes = style.stack(bands, 0.3, title(lang, group))
        for k, cur in enumerate(currencies):
            mine = [p for p in payments if p.currency == cur]
            _circle(axes[2 * k], nets.get(cur, {}), mine, cur, lang)
            _listing(axes[2 * k + 1], mine, lang)
    return fig


def _circle(ax: object, nets: dict[str, int], payments: list[Debt], cur: str, lang: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    people = seating(sorted(nets), payments)
    ax.set_aspect("equal")
    ax.set_xlim(-1.75, 1.75)
    ax.set_ylim(-1.45, 1.45)
    ax.axis("off")
    if not people:
        ax.text(0, 0, t(lang, "Nobody owes anything."), ha="center", va="center", color=style.MUTED, fontsize=14, gid="settled")
        return
    n = len(people)
    where: dict[str, tuple[float, float]] = {}
    for i, p in enumerate(people):  # display coordinates only
        angle = math.pi / 2 - 2 * math.pi * i / n
        where[p] = (math.cos(angle), math.sin(angle))
    radius = 0.11
    for p in people:
        x, y = where[p]
        colour = style.MONEY_IN if nets[p] > 0 else style.MONEY_OUT
        ax.add_patch(Circle((x, y), radius, facecolor=colour, edgecolor=style.BG, linewidth=2, zorder=3))
        ax.text(x, y, p[:1].upper(), ha="center", va="center", color="white", fontsize=12, fontweight="bold", zorder=4)
        lx, ly = x * 1.27, y * 1.2
        ha = "center" if abs(x) < 0.3 else ("left" if x > 0 else "right")
        lx = x + (0.15 if x > 0.3 else -0.15 if x < -0.3 else 0)
        ly = y + (0.19 if y > 0 else -0.19) if abs(x) < 0.3 else y
        ax.text(lx, ly, f"{p}\n{style.signed_money(nets[p], cur, lang)}", ha=ha, va="center", fontsize=10.5,
                color=style.INK, linespacing=1.15, gid=f"person:{p}")
    for d in payments:
        (x0, y0), (x1, y1) = where[d.debtor], where[d.creditor]
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=18, color=style.LINE,
                                     linewidth=1.8, shrinkA=13, shrinkB=13, zorder=2))
        # the amount sits a little inside the circle from the arrow's middle, clear of the people
        mx, my = (x0 + x1) / 2 * 0.78, (y0 + y1) / 2 * 0.78
        ax.text(mx, my, style.money(d.amount, d.currency, lang), ha="center", va="center", fontsize=10.5, zorder=5,
                color=style.INK, bbox={"boxstyle": "round,pad=0.25", "facecolor": style.BG, "edgecolor": style.LINE,
                                       "linewidth": 0.8}, gid=f"pay:{d.debtor}:{d.creditor}")


def seating(people: list[str], payments: list[Debt]) -> list[str]:
    """The order around the circle: people who pay each other sit side by side (a walk through each
    group of payments, the busiest person first), so arrows stay short and rarely cross."""
    links: dict[str, set[str]] = {p: set() for p in people}
    for d in payments:
        links.setdefault(d.debtor, set()).add(d.creditor)
        links.setdefault(d.creditor, set()).add(d.debtor)
    seen: set[str] = set()
    order: list[str] = []
    for first in sorted(links, key=lambda p: (-len(links[p]), p)):
        if first in seen:
            continue
        stack = [first]
        while stack:
            p = stack.pop()
            if p in seen:
                continue
            seen.add(p)
            order.append(p)
            stack += sorted(links[p] - seen, key=lambda q: (len(links[q]), q), reverse=True)
    return order


def _plain(name: str) -> str:
    """A name without accents, for alphabetical order (Émile between Dev and Frida)."""
    return "".join(ch for ch in unicodedata.normalize("NFD", name.casefold()) if not unicodedata.combining(ch))


def _listing(ax: object, payments: list[Debt], lang: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    ax.axis("off")
    ax.set_xlim(0, 1)
    n = max(len(payments), 1)
    ax.set_ylim(n - 0.5, -0.9)
    ax.text(0.0, -0.75, t(lang, "To settle up:"), fontsize=11, color=style.MUTED, va="center")
    if not payments:
        ax.text(0.0, 0, t(lang, "Nothing to pay."), fontsize=12, va="center")
    for i, d in enumerate(sorted(payments, key=lambda d: (_plain(d.debtor), _plain(d.creditor)))):
        ax.text(0.0, i, t(lang, "{debtor} pays {creditor}", debtor=d.debtor, creditor=d.creditor), fontsize=12, va="center")
        ax.text(1.0, i, style.money(d.amount, d.currency, lang), fontsize=12, va="center", ha="right", fontweight="bold",
                gid=f"line:{d.debtor}:{d.creditor}")


def png(debts: Iterable[Debt], lang: str, group: str) -> bytes:
    """The group debts picture as PNG bytes."""
    return style.png_bytes(figure(debts, lang, group))
