"""Statements: a month of a wallet as CSV and as a PNG chart of the balance."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ledger.money import from_minor


def file_tag(handle: str | None, user_id: int) -> str:
    """Whose file it is, for file names: `alice-7` (handle and id: handles change hands, ids do not), `user-7`
    without a handle. A handle keeps only [a-z0-9_], so the tag never has a '-' of its own and two users' tags differ."""
    clean = re.sub(r"[^a-z0-9_]", "_", (handle or "").lower())
    return f"{clean}-{user_id}" if clean else f"user-{user_id}"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of 'YYYY-MM' in UTC; ValueError otherwise."""
    year_s, mon_s = month.split("-")
    year, mon = int(year_s), int(mon_s)
    if not 1 <= mon <= 12:
        raise ValueError(month)
    start = datetime(year, mon, 1, tzinfo=UTC)
    end = datetime(year + (mon == 12), 1 if mon == 12 else mon + 1, 1, tzinfo=UTC)
    return start, end


def opening_balance(ledger: Any, account_id: int, start: datetime) -> int:
    """The posted balance just before `start`."""
    before = ledger.statement(account_id, None, start)
    return int(before[-1].balance) if before else 0


def csv_bytes(lines: Sequence[Any], currency: str, labels: dict[int, str]) -> bytes:
    """The statement as CSV: date, counterparty, memo, amount, balance (decimal strings)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["date", "transfer_id", "counterparty", "memo", "amount", "balance", "currency"])
    for ln in lines:
        at = ln.at if ln.at.tzinfo else ln.at.replace(tzinfo=UTC)
        w.writerow([at.isoformat(), ln.transfer_id, labels.get(ln.counterparty_account_id, ""), ln.memo or "",
                    str(from_minor(ln.amount, currency)), str(from_minor(ln.balance, currency)), currency])
    return buf.getvalue().encode("utf-8")


def chart_png(lines: Sequence[Any], opening: int, currency: str, start: datetime, end: datetime, title: str) -> bytes:
    """A step chart of the balance over the month, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [start]
    ys = [from_minor(opening, currency)]
    for ln in lines:
        at = ln.at if ln.at.tzinfo else ln.at.replace(tzinfo=UTC)
        xs.append(at)
        ys.append(from_minor(ln.balance, currency))
    xs.append(min(end, max(xs[-1], start)))
    ys.append(ys[-1])
    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    ax.step(xs, [float(y) for y in ys], where="post", color="#2a7ae2")  # float only for drawing pixels
    ax.fill_between(xs, [float(y) for y in ys], step="post", alpha=0.15, color="#2a7ae2")
    ax.set_title(title)
    ax.set_ylabel(currency)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
