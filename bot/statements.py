"""Statements: a month of a wallet as CSV and as a picture (bot/charts/statement.py)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
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
    """The posted balance just before `start` (read from the counters and the movements since, not the whole past)."""
    return int(ledger.balance_before(account_id, start))


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


def chart_png(ledger: Any, accounts: Mapping[str, int], months: Mapping[str, Sequence[Any]], primary: str, start: datetime,
              end: datetime, now: datetime, owner: str, lang: str, labels: dict[int, str]) -> bytes:
    """The statement picture (bot/charts/statement.py) as PNG bytes: the `primary` currency first, then
    up to two more wallets that moved or held money this month, as small multiples."""
    from bot.charts import statement as chart

    return chart.png(chart_data(ledger, accounts, months, primary, start, end, now, owner, lang, labels))


def chart_data(ledger: Any, accounts: Mapping[str, int], months: Mapping[str, Sequence[Any]], primary: str, start: datetime,
               end: datetime, now: datetime, owner: str, lang: str, labels: dict[int, str]) -> Any:
    """What the statement picture shows, straight from the ledger's lines (integer minor units)."""
    from bot.charts import statement as chart

    wallets = []
    for cur in [primary] + sorted(c for c in months if c != primary):
        lines = months.get(cur, [])
        opening = opening_balance(ledger, accounts[cur], start) if cur in accounts else 0
        if cur != primary and not lines and opening == 0:
            continue
        moves = tuple(chart.Movement(ln.at if ln.at.tzinfo else ln.at.replace(tzinfo=UTC), int(ln.amount), int(ln.balance),
                                     labels.get(ln.counterparty_account_id, "")) for ln in lines)
        wallets.append(chart.Wallet(cur, opening, moves))
    return chart.Statement(owner, lang, start, end, now, tuple(wallets[:3]))
