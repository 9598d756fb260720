"""Ledger throughput against the fewest hand-written SQL statements writing the same rows.

Modes: (a) one durable transaction per transfer, (b) batches of 100 transfers per transaction;
on SQLite (WAL, synchronous=FULL) and on PostgreSQL (databases made and dropped for the run).
The raw writer inserts the same transfer rows (hash chain included), updates the same account
counters and the chain head, with one statement per table, in one transaction. Raw and ledger
run in alternating slices of the same workload, so both meet the same background load; the
figures are transfers per second over all slices, and the ratio is ledger/raw (target >= 0.5).

    .venv/bin/python bench/ledger.py [--quick] [--only sqlite|postgresql] [--pg ADMIN_URL]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import Ledger, TransferSpec, migrate  # noqa: E402
from ledger.chain import row_hash  # noqa: E402

N_ACCOUNTS = 1000
FUNDING = 10**12
BATCH = 100
Work = list[tuple[str, int, int, int]]


def workload(n: int, seed: int, first_id: int) -> Work:
    """n transfers (id, debit, credit, amount) between random wallets (ids 2..N_ACCOUNTS+1)."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        d = rnd.randrange(2, N_ACCOUNTS + 2)
        c = rnd.randrange(2, N_ACCOUNTS + 1)
        c = c if c < d else c + 1
        out.append((f"t{first_id + i}", d, c, rnd.randrange(1, 10_000)))
    return out


def prepare(url: str) -> None:
    """Migrated schema, a funding account (id 1) and funded wallets (ids 2..N+1), via the ledger,
    and fresh planner statistics."""
    migrate(url)
    with Ledger(url) as led:
        fund = led.system_account("sandbox_funding", "USD")
        assert fund.id == 1
        wallets = [led.open_account(f"u{i}", "USD") for i in range(N_ACCOUNTS)]
        specs = [TransferSpec(f"fund{w.id}", fund.id, w.id, FUNDING) for w in wallets]
        for i in range(0, len(specs), 500):
            assert all(r.ok for r in led.create_transfers(specs[i : i + 500]))
        with led.engine.connect() as conn:  # planner statistics, as a live database has them
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


class LedgerRunner:
    """Transfers through the public API: create_transfer, or create_transfers per batch."""

    def __init__(self, url: str, batch: int) -> None:
        self.ledger = Ledger(url)
        self.batch = batch

    def run(self, work: Work) -> float:
        specs = [TransferSpec(i, d, c, a) for i, d, c, a in work]
        led = self.ledger
        t0 = time.perf_counter()
        if self.batch == 1:
            for s in specs:
                if led.create_transfer(s).result != "ok":
                    raise SystemExit(f"ledger refused {s}")
        else:
            for i in range(0, len(specs), self.batch):
                if any(r.result != "ok" for r in led.create_transfers(specs[i : i + self.batch])):
                    raise SystemExit("ledger refused a transfer")
        return time.perf_counter() - t0

    def close(self) -> None:
        report = self.ledger.check()
        self.ledger.close()
        if not report.ok:
            raise SystemExit(f"ledger check failed after the run: {report.problems[:3]}")


# -- raw SQL: the same rows, the fewest statements ----------------------------------------------

COLS = (
    "seq, id, debit_account_id, credit_account_id, amount, flags, pending_id, timeout_seconds, "
    "code, memo, reverses_id, asset, created_us, expires_us, status, hash"
)


class RawRows:
    """What the ledger writes for plain transfers: the rows with their chained hashes, the
    counter deltas per account, the new head."""

    def __init__(self, head: tuple[int, str]) -> None:
        self.seq, self.hash = head

    def make(self, work: Work) -> tuple[list[tuple[Any, ...]], list[tuple[int, int, int]]]:
        now = time.time_ns() // 1000
        rows = []
        deltas: dict[int, list[int]] = {}
        for tid, d, c, a in work:
            self.seq += 1
            self.hash = row_hash(self.hash, self.seq, tid, d, c, a, 0, None, 0, 0, None, None, "USD", now, None)
            rows.append((self.seq, tid, d, c, a, 0, None, 0, 0, None, None, "USD", now, None, "posted", self.hash))
            deltas.setdefault(d, [0, 0])[0] += a
            deltas.setdefault(c, [0, 0])[1] += a
        return rows, [(dd, cc, acc) for acc, (dd, cc) in sorted(deltas.items())]


class RawSqlite:
    """sqlite3 directly: INSERT (executemany), UPDATE accounts (executemany), UPDATE head."""

    INSERT = f"INSERT INTO ledger_transfers ({COLS}) VALUES ({', '.join('?' * 16)})"
    ACCOUNTS = (
        "UPDATE ledger_accounts SET debits_posted = debits_posted + ?, credits_posted = credits_posted + ?, "
        "version = version + 1 WHERE id = ?"
    )
    HEAD = "UPDATE ledger_head SET seq = ?, hash = ?, version = version + 1 WHERE id = 1"

    def __init__(self, path: str, batch: int) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.rows = RawRows(self.conn.execute("SELECT seq, hash FROM ledger_head WHERE id = 1").fetchone())
        self.batch = batch

    def run(self, work: Work) -> float:
        conn = self.conn
        t0 = time.perf_counter()
        for i in range(0, len(work), self.batch):
            rows, deltas = self.rows.make(work[i : i + self.batch])
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(self.INSERT, rows)
            conn.executemany(self.ACCOUNTS, deltas)
            conn.execute(self.HEAD, (self.rows.seq, self.rows.hash))
            conn.execute("COMMIT")
        return time.perf_counter() - t0

    def close(self) -> None:
        self.conn.close()


class RawPg:
    """psycopg directly: one INSERT of all rows, one UPDATE of all accounts (both over arrays),
    one UPDATE of the head, COMMIT."""

    INSERT = (
        f"INSERT INTO ledger_transfers ({COLS}) SELECT * FROM unnest(%b::bigint[], %b::text[], "
        "%b::int[], %b::int[], %b::bigint[], %b::int[], %b::text[], %b::bigint[], %b::int[], %b::text[], "
        "%b::text[], %b::text[], %b::bigint[], %b::bigint[], %b::text[], %b::text[])"
    )
    ACCOUNTS = (
        "UPDATE ledger_accounts a SET debits_posted = a.debits_posted + v.d, "
        "credits_posted = a.credits_posted + v.c, version = a.version + 1 "
        "FROM unnest(%b::bigint[], %b::bigint[], %b::int[]) AS v(d, c, id) WHERE a.id = v.id"
    )
    HEAD = "UPDATE ledger_head SET seq = %s, hash = %s, version = version + 1 WHERE id = 1"

    def __init__(self, url: str, batch: int) -> None:
        import psycopg

        self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        head = self.conn.execute("SELECT seq, hash FROM ledger_head WHERE id = 1").fetchone()
        self.conn.commit()
        assert head is not None
        self.rows = RawRows((head[0], head[1]))
        self.batch = batch

    def run(self, work: Work) -> float:
        conn = self.conn
        cur = conn.cursor()
        t0 = time.perf_counter()
        for i in range(0, len(work), self.batch):
            rows, deltas = self.rows.make(work[i : i + self.batch])
            cur.execute(self.INSERT, [list(c) for c in zip(*rows, strict=True)])
            cur.execute(self.ACCOUNTS, [list(c) for c in zip(*deltas, strict=True)])
            cur.execute(self.HEAD, (self.rows.seq, self.rows.hash))
            conn.commit()
        return time.perf_counter() - t0

    def close(self) -> None:
        self.conn.close()


# -- databases ----------------------------------------------------------------------------------


class SqliteDb:
    name = "SQLite (WAL, synchronous=FULL)"

    def __init__(self) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="finbot-bench-")

    def pair(self, batch: int) -> tuple[Any, Any]:
        paths = [os.path.join(self.dir.name, f"{uuid.uuid4().hex}.db") for _ in range(2)]
        for p in paths:
            prepare(f"sqlite:///{p}")
        return RawSqlite(paths[0], batch), LedgerRunner(f"sqlite:///{paths[1]}", batch)

    def close(self) -> None:
        self.dir.cleanup()


class PgDb:
    name = "PostgreSQL"

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.psycopg = psycopg
        self.admin = admin_url
        self.made: list[str] = []

    def _fresh(self) -> str:
        name = "finbot_bench_" + uuid.uuid4().hex[:10]
        with self.psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        url = self.admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
        prepare(url)
        return url

    def pair(self, batch: int) -> tuple[Any, Any]:
        return RawPg(self._fresh(), batch), LedgerRunner(self._fresh(), batch)

    def close(self) -> None:
        with self.psycopg.connect(self.admin, autocommit=True) as c:
            for name in self.made:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(db: Any, n: int, batch: int, slices: int, seed: int) -> tuple[float, float]:
    """Transfers/s of raw SQL and of the ledger on their own databases, in `slices` alternating
    slices of the same transfers (who goes first alternates too)."""
    raw, led = db.pair(batch)
    per = max(batch, n // slices)
    t_raw = t_led = 0.0
    done = 0
    try:
        for k in range(slices):
            work = workload(per, seed=seed * 1000 + k, first_id=(seed * 1000 + k) * per)
            if k % 2:
                t_led += led.run(work)
                t_raw += raw.run(work)
            else:
                t_raw += raw.run(work)
                t_led += led.run(work)
            done += per
    finally:
        raw.close()
        led.close()
    return done / t_raw, done / t_led


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a quarter of the transfers")
    ap.add_argument("--only", choices=["sqlite", "postgresql"], help="run on one database only")
    ap.add_argument(
        "--pg",
        default=os.environ.get("FINBOT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="admin URL of the PostgreSQL server (databases are made and dropped)",
    )
    args = ap.parse_args()
    scale = 0.25 if args.quick else 1.0
    dbs: list[Any] = []
    if args.only != "postgresql":
        dbs.append(SqliteDb())
    if args.only != "sqlite":
        dbs.append(PgDb(args.pg))
    # (label, transfers per transaction, transfers on SQLite, transfers on PostgreSQL, slices)
    modes = [
        ("(a) 1 transfer per transaction", 1, 3000, 1500, 30),
        ("(b) 100 transfers per transaction", BATCH, 40000, 20000, 20),
    ]
    print(f"finbot ledger benchmark: {N_ACCOUNTS} funded wallets, random pairs, raw and ledger in alternating slices")
    worst = float("inf")
    try:
        for db in dbs:
            for m, (label, batch, n_sqlite, n_pg, slices) in enumerate(modes):
                n = int((n_pg if isinstance(db, PgDb) else n_sqlite) * scale)
                raw, led = measure(db, n, batch, slices, seed=m + 1)
                ratio = led / raw
                worst = min(worst, ratio)
                print(
                    f"{db.name:31s} {label:34s} raw {raw:9,.0f}/s  ledger {led:9,.0f}/s  "
                    f"ratio {ratio:4.2f}  ({max(batch, n // slices) * slices} transfers)"
                )
    finally:
        for db in dbs:
            db.close()
    print(f"worst ratio ledger/raw {worst:.2f} (target >= 0.50: {'met' if worst >= 0.5 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
