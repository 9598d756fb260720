"""Crash safety: a writer SIGKILLed in the middle of a stream of transfers, 20 times; every
transfer it saw committed is in the book and the reopened ledger passes check()."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from ledger import AccountFlag, Ledger, TransferSpec, create_engine, migrate

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def _start(url: str, run: int, accounts: list[int]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.ledger_worker", "crash", url, f"run{run}", str(run), ",".join(map(str, accounts))],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_sigkill_mid_stream_loses_nothing_committed(db_url: str) -> None:
    migrate(db_url)
    with Ledger(db_url) as led:
        src = led.system_account("sandbox_funding", "USD")
        wallets = [led.open_account(f"w{i}", "USD", flags=AccountFlag.NONE) for i in range(6)]
        assert led.create_transfer(TransferSpec("seed", src.id, wallets[0].id, 1_000_000)).ok
    accounts = [w.id for w in wallets]
    rnd = random.Random(7)
    committed: set[str] = set()
    for run in range(KILLS):
        proc = _start(db_url, run, accounts)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        want = rnd.randint(1, 40)
        seen = 0
        while seen < want:
            line = proc.stdout.readline()
            assert line, f"writer {run} died on its own: {proc.wait()}"
            committed.add(line.split()[1])
            seen += 1
        time.sleep(rnd.random() * 0.02)  # land the kill anywhere in the next transaction
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        committed.update(line.split()[1] for line in rest.splitlines() if line.startswith("ok "))
        with Ledger(db_url) as reopened:
            report = reopened.check()
            assert report.ok, (run, report.problems)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = set(conn.execute(sa.text("SELECT id FROM ledger_transfers")).scalars())
    engine.dispose()
    missing = committed - stored
    assert not missing, f"{len(missing)} transfers reported committed are missing: {sorted(missing)[:5]}"
    assert len(committed) > KILLS
