"""Ledger throughput against the fewest hand-written SQL statements writing the same rows.

Modes: (a) one durable transaction per transfer, (b) batches of 100 transfers per transaction;
on SQLite (WAL, synchronous=FULL) and on PostgreSQL (a database made and dropped for the run).
Prints transfers/s for each and the ratio ledger/raw (target: at least 0.5 everywhere).

    .venv/bin/python bench/ledger.py [--quick] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
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


def workload(n: int, seed: int, first_id: int) -> list[tuple[str, int, int, int]]:
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
    """Migrated schema, a funding account (id 1) and funded wallets (ids 2..N+1), via the ledger."""
    migrate(url)
    with Ledger(url) as led:
        fund = led.system_account("sandbox_funding", "USD")
        assert fund.id == 1
        wallets = [led.open_account(f"u{i}", "USD") for i in range(N_ACCOUNTS)]
        specs = [TransferSpec(f"fund{w.id}", fund.id, w.id, FUNDING) for w in wallets]
        for i in range(0, len(specs), 500):
            assert all(r.ok for r in led.create_transfers(specs[i : i + 500]))


# -- the ledger ---------------------------------------------------------------------------------


def run_ledger(url: str, work: list[tuple[str, int, int, int]], batch: int) -> float:
    specs = [TransferSpec(i, d, c, a) for i, d, c, a in work]
    with Ledger(url) as led:
        t0 = time.perf_counter()
        if batch == 1:
            for s in specs:
                r = led.create_transfer(s)
                if r.result != "ok":
                    raise SystemExit(f"ledger failed: {r}")
        else:
            for i in range(0, len(specs), batch):
                for r in led.create_transfers(specs[i : i + batch]):
                    if r.result != "ok":
                        raise SystemExit(f"ledger failed: {r}")
        elapsed = time.perf_counter() - t0
        report = led.check()
        if not report.ok:
            raise SystemExit(f"ledger check failed after the run: {report.problems[:3]}")
    return len(specs) / elapsed


# -- raw SQL: the same rows, the fewest statements ----------------------------------------------

INSERT_COLS = (
    "seq, id, debit_account_id, credit_account_id, amount, flags, pending_id, timeout_seconds, "
    "code, memo, reverses_id, asset, created_us, expires_us, status, hash"
)


class RawWriter:
    """Writes what the ledger writes for plain transfers: the row, both accounts, the chain head."""

    def __init__(self, conn: Any, p: str, head: tuple[int, str]) -> None:
        self.conn = conn
        self.seq, self.hash = head
        ph = ", ".join([p] * 16)
        self.insert = f"INSERT INTO ledger_transfers ({INSERT_COLS}) VALUES ({ph})"
        self.update = (
            f"UPDATE ledger_accounts SET debits_posted = debits_posted + {p}, "
            f"credits_posted = credits_posted + {p}, version = version + 1 WHERE id = {p}"
        )
        self.head = f"UPDATE ledger_head SET seq = {p}, hash = {p} WHERE id = 1"

    def rows(self, work: list[tuple[str, int, int, int]]) -> tuple[list[tuple[Any, ...]], list[tuple[int, int, int]]]:
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


def run_raw_sqlite(path: str, work: list[tuple[str, int, int, int]], batch: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    head = conn.execute("SELECT seq, hash FROM ledger_head WHERE id = 1").fetchone()
    w = RawWriter(conn, "?", head)
    t0 = time.perf_counter()
    for i in range(0, len(work), batch):
        rows, deltas = w.rows(work[i : i + batch])
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(w.insert, rows)
        conn.executemany(w.update, deltas)
        conn.execute(w.head, (w.seq, w.hash))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return len(work) / elapsed


RAW_PG_INSERT = (
    f"INSERT INTO ledger_transfers ({INSERT_COLS}) SELECT * FROM unnest(%s::bigint[], %s::text[], "
    "%s::int[], %s::int[], %s::bigint[], %s::int[], %s::text[], %s::bigint[], %s::int[], %s::text[], "
    "%s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::text[], %s::text[])"
)
RAW_PG_ACCOUNTS = (
    "UPDATE ledger_accounts a SET debits_posted = a.debits_posted + v.d, "
    "credits_posted = a.credits_posted + v.c, version = a.version + 1 "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::int[]) AS v(d, c, id) WHERE a.id = v.id"
)


def run_raw_pg(url: str, work: list[tuple[str, int, int, int]], batch: int) -> float:
    """One INSERT for the rows, one UPDATE for the accounts, one for the head, and the COMMIT,
    sent together (psycopg pipeline): one round trip per transaction."""
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    head = conn.execute("SELECT seq, hash FROM ledger_head WHERE id = 1").fetchone()
    conn.commit()
    assert head is not None
    w = RawWriter(conn, "%s", (head[0], head[1]))
    cur = conn.cursor()
    t0 = time.perf_counter()
    for i in range(0, len(work), batch):
        rows, deltas = w.rows(work[i : i + batch])
        with conn.pipeline():
            cur.execute(RAW_PG_INSERT, [list(c) for c in zip(*rows, strict=True)])
            cur.execute(RAW_PG_ACCOUNTS, [list(c) for c in zip(*deltas, strict=True)])
            cur.execute(w.head, (w.seq, w.hash))
            conn.commit()
    elapsed = time.perf_counter() - t0
    conn.close()
    return len(work) / elapsed


# -- databases ----------------------------------------------------------------------------------


class SqliteDb:
    name = "SQLite (WAL, synchronous=FULL)"

    def __init__(self) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="finbot-bench-")
        self.led_url, _ = self.fresh()
        self.raw_path = self.fresh()[1]

    def fresh(self) -> tuple[str, str]:
        path = os.path.join(self.dir.name, f"{uuid.uuid4().hex}.db")
        url = f"sqlite:///{path}"
        prepare(url)
        return url, path

    def raw(self, work: list[tuple[str, int, int, int]], batch: int) -> float:
        return run_raw_sqlite(self.raw_path, work, batch)

    def close(self) -> None:
        self.dir.cleanup()


class PgDb:
    name = "PostgreSQL"

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.psycopg = psycopg
        self.admin = admin_url
        self.made: list[str] = []
        self.led_url = self.fresh()
        self.raw_url = self.fresh()

    def fresh(self) -> str:
        name = "finbot_bench_" + uuid.uuid4().hex[:10]
        with self.psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        url = self.admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
        prepare(url)
        return url

    def raw(self, work: list[tuple[str, int, int, int]], batch: int) -> float:
        return run_raw_pg(self.raw_url, work, batch)

    def close(self) -> None:
        with self.psycopg.connect(self.admin, autocommit=True) as c:
            for name in self.made:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(db: Any, n: int, batch: int, rounds: int, offset: int) -> tuple[float, float]:
    """Best of `rounds` for raw SQL and for the ledger, run alternately (so both meet the same
    background load) on their own prepared databases, with the same transfers."""
    best_raw = best_led = 0.0
    for r in range(rounds):
        work = workload(n, seed=offset + r, first_id=(offset + r) * 1_000_000)
        best_raw = max(best_raw, db.raw(work, batch))
        best_led = max(best_led, run_ledger(db.led_url, work, batch))
    return best_raw, best_led


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer transfers and one round")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per figure, the best is kept")
    ap.add_argument(
        "--pg",
        default=os.environ.get("FINBOT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="admin URL of the PostgreSQL server (a database is made and dropped)",
    )
    ap.add_argument("--only", choices=["sqlite", "postgresql"], help="run on one database only")
    args = ap.parse_args()
    rounds = 2 if args.quick else args.rounds
    scale = 0.25 if args.quick else 1.0
    dbs: list[Any] = []
    if args.only != "postgresql":
        dbs.append(SqliteDb())
    if args.only != "sqlite":
        dbs.append(PgDb(args.pg))
    modes = [("(a) 1 transfer per transaction", 1, 1000), ("(b) 100 transfers per transaction", BATCH, 10000)]
    worst = float("inf")
    print(
        f"finbot ledger benchmark: {N_ACCOUNTS} funded wallets, random pairs; raw and ledger run "
        f"alternately, best of {rounds} rounds each"
    )
    try:
        for db in dbs:
            for m, (label, batch, n) in enumerate(modes):
                count = max(BATCH, int(n * scale)) if batch > 1 else max(100, int(n * scale))
                if isinstance(db, PgDb) and batch == 1:
                    count = max(100, count // 2)
                raw, led = measure(db, count, batch, rounds, offset=10 * m)
                ratio = led / raw
                worst = min(worst, ratio)
                print(
                    f"{db.name:32s} {label:36s} raw {raw:9,.0f}/s  ledger {led:9,.0f}/s  "
                    f"ratio {ratio:4.2f}  ({count} transfers)"
                )
    finally:
        for db in dbs:
            db.close()
    verdict = "met" if worst >= 0.5 else "MISSED"
    print(f"worst ratio ledger/raw {worst:.2f} (target >= 0.50: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
