"""How long each picture takes to render (bot/charts/), from typed data to PNG bytes.

Target: no chart over ~150 ms. Each chart is rendered once to warm up (imports, font cache), then
`--runs` times; printed are the fastest and the median wall time and the fastest CPU time of this
process (the CPU time is what the chart costs; wall time also counts other processes on the machine),
the PNG's size in pixels and bytes, and the layout/draw/encode split of the fastest run.

    .venv/bin/python bench/charts.py [--runs 7] [--out DIR]   (DIR: also write each PNG there)
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from bot.charts import debts, portfolio, receipt, statement, style  # noqa: E402

NOV = datetime(2026, 11, 1, tzinfo=UTC)


def a_statement(currencies: int = 1) -> statement.Statement:
    wallets = []
    for k, cur in enumerate(["USD", "NOK", "EUR"][:currencies]):
        bal, moves = 115000, []
        for i in range(60):  # two movements a day, five counterparties
            amount = [-2000, 5000, -1500, -11500, 2000, -350][i % 6] * (k + 1)
            bal += amount
            moves.append(statement.Movement(NOV + timedelta(hours=9 + 7 * i), amount, bal, f"@friend{i % 5}"))
        wallets.append(statement.Wallet(cur, 115000, tuple(moves)))
    return statement.Statement("Alice", "nb", NOV, NOV + timedelta(days=30), NOV + timedelta(days=30), tuple(wallets))


def a_portfolio() -> portfolio.Portfolio:
    start = NOV
    points = tuple(portfolio.Point(start + timedelta(days=d), 400000 + 900 * d - (d % 3) * 700, 390000) for d in range(31))
    holdings = tuple(portfolio.Holding(s, "USD", 31200 * (i + 1), 30000 * (i + 1)) for i, s in enumerate(["AAPL", "MSFT", "NVDA", "EQNR", "MC"]))
    orders = (portfolio.OpenOrder(start + timedelta(days=20), "MSFT", "buy", "USD"),)
    return portfolio.Portfolio("Alice", "nb", start + timedelta(days=30), {"USD": points}, holdings, orders)


def some_debts(people: int) -> list[debts.Debt]:
    names = ["Alice", "Bjørn", "Chloé", "Dev", "Émile", "Frida", "Gus", "Hana", "Ingrid", "Jonas", "Kari", "Léa"][:people]
    return [debts.Debt(names[i % people], names[(i * 5 + 3) % people], 1000 + 137 * i, "NOK") for i in range(3 * people)]


def a_receipt() -> receipt.Receipt:
    return receipt.Receipt(2050, "NOK", "@alice", "@bjørn", NOV + timedelta(days=17, hours=15), "a1b2c3d4-0f1e-4a5b-9c8d", "nb", "Pizza")


CHARTS: dict[str, tuple[Any, Any]] = {
    "statement, 1 currency, 60 entries": (statement.figure, a_statement(1)),
    "statement, 3 currencies (small multiples)": (statement.figure, a_statement(3)),
    "portfolio, 5 holdings, 31 days": (portfolio.figure, a_portfolio()),
    "group debts, 6 people": (lambda d: debts.figure(d, "nb", "Hytta"), some_debts(6)),
    "group debts, 12 people": (lambda d: debts.figure(d, "nb", "Hytta"), some_debts(12)),
    "receipt": (receipt.figure, a_receipt()),
}


def once(build: Any, data: Any) -> tuple[float, float, float, float, float, bytes]:
    w0, c0 = time.perf_counter(), time.process_time()
    fig = build(data)
    w1 = time.perf_counter()
    style.draw(fig)  # layout + drawing, under the charts' style (as style.png_bytes does)
    w2 = time.perf_counter()
    png = style.encode(fig)  # the drawn canvas to PNG bytes, as style.png_bytes does
    w3 = time.perf_counter()
    return w3 - w0, time.process_time() - c0, w1 - w0, w2 - w1, w3 - w2, png


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'chart':44} {'wall min':>9} {'median':>8} {'cpu min':>8}   build/draw/encode ms   size")
    for name, (build, data) in CHARTS.items():
        once(build, data)
        runs = [once(build, data) for _ in range(args.runs)]
        walls = [r[0] for r in runs]
        best = min(runs, key=lambda r: r[0])
        png = style.png_bytes(build(data))
        with Image.open(io.BytesIO(png)) as im:
            size = f"{im.size[0]}x{im.size[1]} px, {len(png) // 1024} KiB"
        split = "/".join(f"{v * 1000:.0f}" for v in best[2:5])
        print(f"{name:44} {min(walls) * 1000:7.0f}ms {statistics.median(walls) * 1000:6.0f}ms "
              f"{min(r[1] for r in runs) * 1000:6.0f}ms   {split:>20}   {size}")
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / (name.split(",")[0].replace(" ", "-") + f"-{len(name)}.png")).write_bytes(png)


if __name__ == "__main__":
    main()
