"""Concurrency: 8 PostgreSQL processes on a few hot accounts (nothing below zero, money conserved,
every success stored once); threads on one SQLite file; a foreign write lock on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger import AccountFlag, Ledger, TransferSpec, create_engine, migrate

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 8
PER_PROCESS = 120
FUNDS = 500


def test_eight_processes_on_hot_accounts(pg_url: str) -> None:
    migrate(pg_url)
    with Ledger(pg_url) as led:
        src = led.system_account("sandbox_funding", "USD")
        hot = [led.open_account(f"hot{i}", "USD") for i in range(4)]
        for w in hot:
            assert led.create_transfer(TransferSpec(f"seed-{w.id}", src.id, w.id, FUNDS)).ok
    ids = ",".join(str(w.id) for w in hot)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.ledger.ledger_worker", "hammer", pg_url, f"p{i}", str(i), ids, "--n", str(PER_PROCESS)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        for i in range(PROCESSES)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * PROCESSES, outputs
    ok: list[str] = []
    failed: Counter[str] = Counter()
    for out in outputs:
        lines = out.splitlines()
        assert lines[-1] == "done"
        for line in lines[:-1]:
            verdict, tid, code = line.split()
            if verdict == "ok":
                ok.append(tid)
            else:
                failed[code] += 1
    assert len(ok) == len(set(ok))
    assert failed["exceeds_credits"] > 0, "the hot wallets never ran dry: the test is too easy"
    assert set(failed) <= {"exceeds_credits", "linked_event_failed"}, failed

    engine = create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, amount FROM ledger_transfers")).all()
        accts = conn.execute(
            sa.text("SELECT id, debits_posted, credits_posted, debits_pending FROM ledger_accounts")
        ).all()
    engine.dispose()
    stored = Counter(r.id for r in rows)
    assert all(n == 1 for n in stored.values())
    assert set(ok) <= set(stored), "a success the writer saw is missing"
    assert set(stored) - set(ok) == {f"seed-{w.id}" for w in hot}, "a transfer nobody saw succeed is in the book"
    for a in accts:
        if a.id != src.id:
            assert a.credits_posted - a.debits_posted - a.debits_pending >= 0, f"account {a.id} below zero"
    assert sum(a.debits_posted for a in accts) == sum(a.credits_posted for a in accts)
    assert sum(a.credits_posted - a.debits_posted for a in accts if a.id != src.id) == FUNDS * len(hot)
    with Ledger(pg_url) as led:
        report = led.check()
    assert report.ok, report.problems


def test_threads_share_one_sqlite_writer(sqlite_url: str) -> None:
    """Several threads, each with its own Ledger on one file: the process-wide writer lock
    serialises them; nothing fails for a lock and the book adds up."""
    import threading

    migrate(sqlite_url)
    with Ledger(sqlite_url) as led:
        src = led.system_account("sandbox_funding", "USD")
        wallets = [led.open_account(f"t{i}", "USD") for i in range(3)]
        for w in wallets:
            assert led.create_transfer(TransferSpec(f"seed-{w.id}", src.id, w.id, 1_000)).ok
    errors: list[BaseException] = []
    results: list[str] = []

    def work(n: int) -> None:
        try:
            with Ledger(sqlite_url) as mine:
                for k in range(40):
                    a, b = wallets[(n + k) % 3], wallets[(n + k + 1) % 3]
                    results.append(mine.create_transfer(TransferSpec(f"th{n}-{k}", a.id, b.id, 7 + n)).result.value)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results.count("ok") == 160
    with Ledger(sqlite_url) as led:
        assert sum(led.balance(w.id).posted for w in wallets) == 3_000
        assert led.check().ok


def test_a_write_lock_held_elsewhere_is_a_typed_error(sqlite_url: str) -> None:
    from ledger import LedgerBusy

    migrate(sqlite_url)
    engine = create_engine(sqlite_url, sqlite_busy_timeout=0.2)
    with Ledger(engine) as led:
        a = led.open_account("a", "USD", flags=AccountFlag.NONE)
        b = led.open_account("b", "USD")
        blocker = create_engine(sqlite_url)
        with blocker.begin() as conn:  # BEGIN IMMEDIATE, left open
            conn.execute(sa.text("UPDATE ledger_head SET next_expiry_us = NULL"))
            with pytest.raises(LedgerBusy):
                led.create_transfer(TransferSpec("x", a.id, b.id, 1))
        blocker.dispose()
        assert led.create_transfer(TransferSpec("x", a.id, b.id, 1)).ok
    engine.dispose()
