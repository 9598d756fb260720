"""Where one "send, confirm, PIN" conversation spends its time: statements, transactions and durable
commits per event (counted at the driver, so the ledger's own raw connection is counted too), and
optionally a cProfile of the events. Prints figures; asserts nothing.

    .venv/bin/python bench/profile_conversation.py [--conversations N] [--no-pg] [--cprofile] [--sql]

A commit is "durable" when its transaction wrote something (SQLite: the connection's total_changes
moved since BEGIN; PostgreSQL: the transaction has an xid), i.e. it costs an fsync of the WAL, unless it
was "deferred" (ledger.db's deferred durability: SQLite synchronous=NORMAL, PostgreSQL
synchronous_commit=off): then it rides the next durable commit's fsync.
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

args_tottime = False
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


class Counter:
    """Statements, commits and durable commits seen by every driver connection."""

    def __init__(self) -> None:
        self.on = False
        self.statements = 0
        self.commits = 0
        self.durable = 0
        self.deferred = 0
        self.sql: collections.Counter[str] = collections.Counter()
        self.keep_sql = False

    def statement(self, text: str) -> None:
        if not self.on:
            return
        self.statements += 1
        if self.keep_sql:
            text = re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", " ".join(text.split()))
            self.sql[text[:150]] += 1

    def commit(self, wrote: bool, deferred: bool = False) -> None:
        if not self.on:
            return
        self.commits += 1
        self.durable += int(wrote)
        self.deferred += int(deferred)

    def take(self) -> tuple[int, int, int, int]:
        out = (self.statements, self.commits, self.durable, self.deferred)
        self.statements = self.commits = self.durable = self.deferred = 0
        return out


def instrument_sqlite(db: sa.Engine, counter: Counter) -> None:
    begun: dict[int, int] = {}

    relaxed: set[int] = set()

    def trace(conn: Any) -> Callable[[str], None]:
        def cb(stmt: str) -> None:
            text = stmt.lstrip().upper()
            if text.startswith("PRAGMA SYNCHRONOUS="):  # deferred durability (ledger.db.DEFER_SYNC) and back
                (relaxed.add if "NORMAL" in text else relaxed.discard)(id(conn))
            if text.startswith("BEGIN"):
                begun[id(conn)] = conn.total_changes
            elif text.startswith("COMMIT"):
                wrote = conn.total_changes != begun.get(id(conn), conn.total_changes)
                counter.commit(wrote and id(conn) not in relaxed, wrote and id(conn) in relaxed)
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
    relaxed: set[int] = set()  # connections whose transaction set synchronous_commit off

    def execute(self: Any, query: Any, *a: Any, **k: Any) -> Any:
        if not checking[0]:
            text = str(query) if not hasattr(query, "as_string") else "composed"
            counter.statement(text)
            if "synchronous_commit" in text and "off" in text:
                relaxed.add(id(self.connection))
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
            deferred = id(self) in relaxed
            counter.commit(wrote and not deferred, wrote and deferred)
        relaxed.discard(id(self))
        return real_commit(self)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    psycopg.Cursor.executemany = executemany  # type: ignore[method-assign]
    psycopg.Connection.commit = commit  # type: ignore[method-assign]


def time_statements(db: sa.Engine, counter: Counter) -> dict[str, list[float]]:
    """Wall time per statement text of what goes through SQLAlchemy (the ledger's raw writer does not)."""
    spent: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0])

    @sa.event.listens_for(db, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        conn.info["perf_t0"] = time.perf_counter()

    @sa.event.listens_for(db, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if counter.on:
            row = spent[" ".join(statement.split())[:120]]
            row[0] += time.perf_counter() - conn.info.pop("perf_t0", time.perf_counter())
            row[1] += 1
    return spent


def run(url: str, n: int, counter: Counter, profile: bool, big: bool = False) -> None:
    now = [datetime(2026, 11, 18, 15, 0, tzinfo=UTC)]
    settings = load_settings(database_url=url, stepup_velocity_max_count=10**9, kyc_tier0_limit=Decimal(10**9))
    db = create_engine(url)
    if url.startswith("sqlite"):
        instrument_sqlite(db, counter)
    engine = build_engine(settings, messenger="bench", clock=lambda: now[0], funding=SandboxFunding(cap_minor=10**12), db=db)
    spent = time_statements(db, counter)
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
    if big:
        from engine import seed_big  # bench/engine.py

        from bot.models import User

        with db.connect() as conn:
            uid = dict(conn.execute(sa.select(User.handle, User.id)).all())  # type: ignore[call-overload]
        seed_big(db, engine.ledger, uid["alice"], uid["bob"], now[0])
    topup = engine.handle(ev("alice", f"top up ${n + 100}"))
    engine.handle(ev("alice", press=confirm_token(topup)))
    engine.handle(ev("alice", "4826"))

    totals: dict[str, list[float]] = {"send": [0, 0, 0, 0, 0.0], "confirm": [0, 0, 0, 0, 0.0], "pin": [0, 0, 0, 0, 0.0]}
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
            for i, v in enumerate((*counter.take(), dt)):
                totals[name][i] += v
    counter.on = False
    print(f"  {'event':8} {'statements':>10} {'commits':>8} {'durable':>8} {'deferred':>8} {'mean ms':>8}")
    for name, (st, cm, du, de, dt) in totals.items():
        print(f"  {name:8} {st / n:10.1f} {cm / n:8.1f} {du / n:8.1f} {de / n:8.1f} {dt / n * 1000:8.2f}")
    s = [sum(v[i] for v in totals.values()) / n for i in range(5)]
    print(f"  {'total':8} {s[0]:10.1f} {s[1]:8.1f} {s[2]:8.1f} {s[3]:8.1f} {s[4] * 1000:8.2f}")
    if counter.keep_sql:
        print("  slowest statements through SQLAlchemy (ms per conversation, count per conversation):")
        for text, (secs, k) in sorted(spent.items(), key=lambda kv: -kv[1][0])[:15]:
            print(f"    {secs / n * 1000:7.3f} {k / n:5.1f}  {text}")
        print("  statements by text (per conversation):")
        for text, k in counter.sql.most_common(60):
            print(f"    {k / n:6.1f}  {text}")
        counter.sql.clear()
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(*(("tottime",) if args_tottime else ("cumulative",))).print_stats(45)
        print(out.getvalue())
    db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conversations", type=int, default=100)
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--sql", action="store_true", help="also list the statements by text")
    ap.add_argument("--tottime", action="store_true", help="order the cProfile by own time, not cumulative")
    ap.add_argument("--big", action="store_true", help="seed bench/engine.py's big book first")
    args = ap.parse_args()
    global args_tottime
    args_tottime = args.tottime
    counter = Counter()
    counter.keep_sql = args.sql
    instrument_pg(counter)
    with tempfile.TemporaryDirectory() as tmp:
        print("sqlite")
        run(f"sqlite:///{tmp}/profile.db", args.conversations, counter, args.cprofile, args.big)
        if not args.no_pg:
            name = "finbot_prof_" + uuid.uuid4().hex[:8]
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                print("postgres")
                run(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", args.conversations, counter, args.cprofile, args.big)
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
