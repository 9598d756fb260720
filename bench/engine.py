"""Benchmark: complete "send, confirm, PIN" conversations per second through the engine, p50/p99 per event.

Beside it, in the same run, the ledger-only rate of the same transfers. Prints figures; asserts nothing.
    python bench/engine.py [--conversations N] [--pg/--no-pg]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from adapters.funding.sandbox import SandboxFunding  # noqa: E402
from bot.bootstrap import build_engine  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.events import Chat, ChatKind, Event, Person, Press  # noqa: E402
from ledger import Ledger, TransferSpec, create_engine  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def run(url: str, n: int, argon_time: int, argon_mem: int) -> dict[str, float]:
    clock = Clock()
    # limits out of the way: the top-up below must cover every conversation's $1
    settings = load_settings(database_url=url, pin_argon2_time_cost=argon_time, pin_argon2_memory_kib=argon_mem,
                             stepup_velocity_max_count=10**9, kyc_tier0_limit=Decimal(10**9))
    db = create_engine(url)
    engine = build_engine(settings, messenger="bench", clock=clock, funding=SandboxFunding(cap_minor=10**12), db=db)
    seq = 0

    def ev(user: str, text: str | None = None, press: str | None = None) -> Event:
        nonlocal seq
        seq += 1
        clock.now += timedelta(milliseconds=1)
        return Event(f"b{seq}", Chat("bench", f"dm:{user}", ChatKind.private), Person("bench", user, handle=user),
                     clock.now, text=text, message_id=str(seq),
                     press=Press(f"p{seq}", press, None) if press else None)

    def confirm_token(replies: list) -> str:  # type: ignore[type-arg]
        for r in replies:
            for row in r.buttons:
                for b in row:
                    if b.data and b.label == "Confirm":
                        return b.data
        raise RuntimeError("no Confirm button: " + repr([r.text for r in replies]))

    users = ["alice", "bob"]
    for u in users:
        engine.handle(ev(u, "/start"))
        engine.handle(ev(u, "/pin"))
        engine.handle(ev(u, "4826"))
        engine.handle(ev(u, "4826"))
    topup = engine.handle(ev("alice", f"top up ${n + 100}"))
    engine.handle(ev("alice", press=confirm_token(topup)))
    engine.handle(ev("alice", "4826"))

    per_event: list[float] = []
    t0 = time.perf_counter()
    for _ in range(n):
        a = time.perf_counter()
        card = engine.handle(ev("alice", "send $1 to @bob"))
        b = time.perf_counter()
        pressed = engine.handle(ev("alice", press=confirm_token(card)))
        c = time.perf_counter()
        done = engine.handle(ev("alice", "4826"))
        d = time.perf_counter()
        per_event += [b - a, c - b, d - c]
        assert any("Done" in r.text for r in done), [r.text for r in card + pressed + done]
    elapsed = time.perf_counter() - t0
    report = engine.ledger.check()
    assert report.ok, report.problems

    # ledger only: the same transfers, one durable transaction each, in the same run
    ledger = Ledger(db, clock=clock)
    src = ledger.open_account("bench:src", "USD", "wallet", flags=None)
    dst = ledger.open_account("bench:dst", "USD", "wallet")
    funding = ledger.system_account("sandbox_funding", "USD")
    ledger.create_transfer(TransferSpec(id="bench-fund", debit_account_id=funding.id, credit_account_id=src.id, amount=10**9))
    t1 = time.perf_counter()
    for i in range(n):
        r = ledger.create_transfer(TransferSpec(id=f"bench-{uuid.uuid4().hex}-{i}", debit_account_id=src.id,
                                                credit_account_id=dst.id, amount=100))
        assert r.ok
    ledger_elapsed = time.perf_counter() - t1
    db.dispose()
    per_event.sort()
    return {
        "conversations_per_s": n / elapsed,
        "events_per_s": 3 * n / elapsed,
        "p50_ms": statistics.median(per_event) * 1000,
        "p99_ms": per_event[int(len(per_event) * 0.99) - 1] * 1000,
        "ledger_transfers_per_s": n / ledger_elapsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conversations", type=int, default=300)
    ap.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = ap.parse_args()
    costs = [("argon2id t=2 m=19MiB (default)", 2, 19456), ("argon2id t=1 m=1MiB (bench floor)", 1, 1024)]
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        pg_name = None
        if not args.no_pg:
            pg_name = "finbot_bench_" + uuid.uuid4().hex[:8]
            targets.append(("postgres", f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"))
        for label, t_cost, mem in costs:
            for db_name, url in targets:
                if db_name == "postgres":
                    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
                        conn.execute(f'CREATE DATABASE "{pg_name}"')
                else:
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
                res = run(url, args.conversations, t_cost, mem)
                print(f"{db_name:8s} {label:36s} conversations/s={res['conversations_per_s']:.0f} "
                      f"events/s={res['events_per_s']:.0f} p50={res['p50_ms']:.2f}ms p99={res['p99_ms']:.2f}ms "
                      f"ledger-only transfers/s={res['ledger_transfers_per_s']:.0f} "
                      f"ratio engine/ledger={res['conversations_per_s'] / res['ledger_transfers_per_s']:.2f}", flush=True)
        if pg_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
