"""Where one "send, confirm, PIN" conversation spends its time: statements, transactions and durable
commits per event (counted at the driver, so the ledger's own raw connection is counted too), and
optionally a cProfile of the events. Prints figures; asserts nothing.

    .venv/bin/python bench/profile_conversation.py [--conversations N] [--no-pg] [--cprofile] [--sql]

A commit is "durable" when its transaction wrote something (SQLite: the connection's total_changes
moved since BEGIN; PostgreSQL: the transaction has an xid), i.e. it costs an fsync of the WAL.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import pstats
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from adapters.funding.sandbox import SandboxFunding  # noqa: E402
from bot.bootstrap import build_engine  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.events import Chat, ChatKind, Event, Person, Press  # noqa: E402
from ledger import create_engine  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


class Counter:
    """Statements, commits and durable commits seen by every driver connection."""

    def __init__(self) -> None:
        self.on = False
        self.statements = 0
        self.commits = 0
        self.durable = 0
        self.sql: collections.Counter[str] = collections.Counter()
        self.keep_sql = False

    def statement(self, text: str) -> None:
        if not self.on:
            return
        self.statements += 1
        if self.keep_sql:
            text = re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", " ".join(text.split()))
            self.sql[text[:150]] += 1

    def commit(self, wrote: bool) -> None:
        if not self.on:
            return
        self.commits += 1
        self.durable += int(wrote)

    def take(self) -> tuple[int, int, int]:
        out = (self.statements, self.commits, self.durable)
        self.statements = self.commits = self.durable = 0
        return out


def instrument_sqlite(db: sa.Engine, counter: Counter) -> None:
    begun: dict[int, int] = {}

    def trace(conn: Any) -> Callable[[str], None]:
        def cb(stmt: str) -> None:
            head = stmt.lstrip()[:6].upper()
            if head.startswith("BEGIN"):
                begun[id(conn)] = conn.total_changes
            elif head.startswith("COMMIT"):
                counter.commit(conn.total_changes != begun.get(id(conn), conn.total_changes))
            counter.statement(stmt)
        return cb

    @sa.event.listens_for(db, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(trace(dbapi_connection))


def instrument_pg(counter: Counter) -> None:
    real_execute = psycopg.Cursor.execute
    real_executemany = psycopg.Cursor.executemany
    real_commit = psycopg.Connection.commit
    checking = [False]

    def execute(self: Any, query: Any, *a: Any, **k: Any) -> Any:
        if not checking[0]:
            counter.statement(str(query) if not hasattr(query, "as_string") else "composed")
        return real_execute(self, query, *a, **k)

    def executemany(self: Any, query: Any, *a: Any, **k: Any) -> Any:
        counter.statement(str(query))
        return real_executemany(self, query, *a, **k)

    def commit(self: Any) -> Any:
        wrote = False
        if counter.on and self.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            checking[0] = True
            try:
                with self.cursor() as cur:
                    wrote = real_execute(cur, "SELECT pg_current_xact_id_if_assigned()").fetchone()[0] is not None
            finally:
                checking[0] = False
        if self.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            counter.commit(wrote)
        return real_commit(self)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    psycopg.Cursor.executemany = executemany  # type: ignore[method-assign]
    psycopg.Connection.commit = commit  # type: ignore[method-assign]


def run(url: str, n: int, counter: Counter, profile: bool) -> None:
    now = [datetime(2026, 11, 18, 15, 0, tzinfo=UTC)]
    settings = load_settings(database_url=url, stepup_velocity_max_count=10**9, kyc_tier0_limit=Decimal(10**9))
    db = create_engine(url)
    if url.startswith("sqlite"):
        instrument_sqlite(db, counter)
    engine = build_engine(settings, messenger="bench", clock=lambda: now[0], funding=SandboxFunding(cap_minor=10**12), db=db)
    seq = 0

    def ev(user: str, text: str | None = None, press: str | None = None) -> Event:
        nonlocal seq
        seq += 1
        now[0] += timedelta(milliseconds=1)
        return Event(f"b{seq}", Chat("bench", f"dm:{user}", ChatKind.private), Person("bench", user, handle=user),
                     now[0], text=text, message_id=str(seq), press=Press(f"p{seq}", press, None) if press else None)

    def confirm_token(replies: list[Any]) -> str:
        for r in replies:
            for row in r.buttons:
                for b in row:
                    if b.data and b.label == "Confirm":
                        return str(b.data)
        raise RuntimeError("no Confirm button")

    for u in ("alice", "bob"):
        for text in ("/start", "/pin", "4826", "4826"):
            engine.handle(ev(u, text))
    topup = engine.handle(ev("alice", f"top up ${n + 100}"))
    engine.handle(ev("alice", press=confirm_token(topup)))
    engine.handle(ev("alice", "4826"))

    totals: dict[str, list[float]] = {"send": [0, 0, 0, 0.0], "confirm": [0, 0, 0, 0.0], "pin": [0, 0, 0, 0.0]}
    prof = cProfile.Profile() if profile else None
    counter.on = True
    counter.take()
    card: list[Any] = []
    for _ in range(n):
        for name, make in (("send", lambda: ev("alice", "send $1 to @bob")), ("confirm", None), ("pin", lambda: ev("alice", "4826"))):
            event = make() if make is not None else ev("alice", press=confirm_token(card))
            t = time.perf_counter()
            if prof:
                prof.enable()
            replies = engine.handle(event)
            if prof:
                prof.disable()
            dt = time.perf_counter() - t
            if name == "send":
                card[:] = replies
            st, cm, du = counter.take()
            tot = totals[name]
            tot[0] += st
            tot[1] += cm
            tot[2] += du
            tot[3] += dt
    counter.on = False
    print(f"  {'event':8} {'statements':>10} {'commits':>8} {'durable':>8} {'mean ms':>8}")
    for name, (st, cm, du, dt) in totals.items():
        print(f"  {name:8} {st / n:10.1f} {cm / n:8.1f} {du / n:8.1f} {dt / n * 1000:8.2f}")
    s = [sum(v[i] for v in totals.values()) / n for i in range(4)]
    print(f"  {'total':8} {s[0]:10.1f} {s[1]:8.1f} {s[2]:8.1f} {s[3] * 1000:8.2f}")
    if counter.keep_sql:
        print("  statements by text (per conversation):")
        for text, k in counter.sql.most_common(60):
            print(f"    {k / n:6.1f}  {text}")
        counter.sql.clear()
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
    db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conversations", type=int, default=100)
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--sql", action="store_true", help="also list the statements by text")
    args = ap.parse_args()
    counter = Counter()
    counter.keep_sql = args.sql
    instrument_pg(counter)
    with tempfile.TemporaryDirectory() as tmp:
        print("sqlite")
        run(f"sqlite:///{tmp}/profile.db", args.conversations, counter, args.cprofile)
        if not args.no_pg:
            name = "finbot_prof_" + uuid.uuid4().hex[:8]
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                print("postgres")
                run(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", args.conversations, counter, args.cprofile)
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
