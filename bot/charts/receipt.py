"""A compact receipt for a done payment, to keep or forward: amount, payee, time with its zone, id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch

from bot.charts import style
from bot.i18n import t

QUOTES = {"en": ("“", "”"), "nb": ("«", "»"), "fr": ("«\u00a0", "\u00a0»")}  # as bot/locale/README.md quotes


@dataclass(frozen=True)
class Receipt:
    """A payment that is done: integer minor units, who paid whom, when (aware), the ledger transfer id."""

    amount: int
    currency: str
    payer: str
    payee: str
    at: datetime
    transfer_id: str
    lang: str
    note: str | None = None
    tz: Any = UTC


def figure(r: Receipt) -> Figure:
    """The receipt as a matplotlib Figure (not yet drawn)."""
    lang = r.lang
    with style.styled():
        fig = style.new_figure(3.9)
        fig.set_layout_engine("none")
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 7.2)
        ax.set_ylim(0, 3.9)
        ax.axis("off")
        ax.add_patch(FancyBboxPatch((0.25, 0.25), 6.7, 3.4, boxstyle="round,pad=0,rounding_size=0.22",
                                    facecolor="white", edgecolor=style.GRID, linewidth=1.2))
        ax.add_patch(Circle((0.85, 3.0), 0.28, facecolor=style.MONEY_IN, edgecolor="none"))
        ax.text(0.85, 2.99, "✓", ha="center", va="center", color="white", fontsize=20, fontweight="bold")
        ax.text(1.35, 3.0, t(lang, "Payment done"), va="center", fontsize=15, fontweight="bold", color=style.MONEY_IN, gid="status")
        ax.text(0.6, 2.2, style.money(r.amount, r.currency, lang), va="center", fontsize=30, fontweight="bold",
                color=style.INK, gid="amount")
        ax.text(0.6, 1.55, t(lang, "{payer} to {payee}", payer=r.payer, payee=r.payee), va="center", fontsize=14,
                color=style.INK, gid="parties")
        y = 1.12
        if r.note:
            start, end = QUOTES.get(lang, QUOTES["en"])
            ax.text(0.6, y, f"{start}{r.note[:60]}{end}", va="center", fontsize=12, color=style.MUTED, gid="note")
            y -= 0.34
        ax.text(0.6, y, style.moment_text(r.at, lang, r.tz), va="center", fontsize=12, color=style.MUTED, gid="time")
        ax.text(6.6, 0.46, t(lang, "ID {id}", id=r.transfer_id[:40]), ha="right", va="center", fontsize=9.5,
                family="DejaVu Sans Mono", color=style.MUTED, gid="id")
        ax.text(0.6, 0.46, "finbot", va="center", fontsize=10, fontweight="bold", color=style.LINE)
    return fig


def png(r: Receipt) -> bytes:
    """The receipt as PNG bytes."""
    return style.png_bytes(figure(r))
