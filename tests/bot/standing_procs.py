"""Several worker processes (subprocess, real SIGKILLs) ticking the same standing orders on one PostgreSQL database.

Used by tests/bot/test_standing_procs.py (short) and bench/standing_procs.py (long, prints the counts).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

START = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Counts:
    """What the run did, counted from the database afterwards."""

    due: int  # occurrences the rules give in the window
    rows: int  # occurrence rows written
    run: int  # rows done
    transfers: int  # ledger transfers of standing orders (one per run)
    duplicates: int  # occurrences with more than one transfer, or a row written twice
    missed: int  # occurrences due but not done
    kills: int
    ledger_ok: bool

    def line(self) -> str:
        return (f"occurrences_due={self.due} run={self.run} duplicates={self.duplicates} missed={self.missed} "
                f"rows={self.rows} transfers={self.transfers} kills={self.kills} ledger_check={'ok' if self.ledger_ok else 'FAILED'}")


def setup(db_url: str, payers: int, daily: int, weekly: int) -> list[int]:
    """Users funded through the ledger, and `daily` + `weekly` standing sends between them; the schedule ids."""
    from adapters.funding.sandbox import SandboxFunding
    from bot.db import migrate_all
    from bot.execution import Executor
    from bot.models import User
    from bot.standing import store
    from bot.standing.ends import End
    from ledger import Ledger, create_engine

    db = create_engine(db_url)
    migrate_all(db)
    ledger = Ledger(db)
    ex = Executor(ledger=ledger, funding=SandboxFunding())
    ids: list[int] = []
    with Session(db, expire_on_commit=False) as s:
        users = [User(handle=f"u{i}", created_at=START) for i in range(payers + 1)]
        s.add_all(users)
        s.commit()
        uids = [u.id for u in users if u.id is not None]
    for uid in uids[:-1]:
        assert ex.run(f"fund-{uid}", "deposit", {"currency": "USD", "amount": 10_000_000, "from_user": uid}).ok
    payee = uids[-1]
    with Session(db, expire_on_commit=False) as s:
        n = 0
        for rule, k in (("FREQ=DAILY", daily), ("FREQ=WEEKLY;BYDAY=MO,TH", weekly)):
            for _ in range(k):
                payer = uids[n % payers]
                payload = {"kind": "send", "currency": "USD", "from_user": payer, "note": None, "fee": 0,
                           "legs": [{"to_user": payee, "handle": "payee", "label": "@payee", "amount": 100 + n,
                                     "escrow": False}]}
                row = store.create(s, action_id=f"proc-{n}", user_id=payer, kind="send", payload=payload, rule=rule,
                                   when=None, end=End(), now=START, tz="Europe/Oslo", hour=9)
                assert row is not None and row.id is not None
                ids.append(row.id)
                n += 1
        s.commit()
    db.dispose()
    return ids


def _set_clock(db: sa.Engine, value: str) -> None:
    from bot.models import KeyValue

    with Session(db) as s:
        row = s.get(KeyValue, "standing_clock")
        if row is None:
            s.add(KeyValue(key="standing_clock", value=value))
        else:
            row.value = value
            s.add(row)
        s.commit()


def _spawn(db_url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.bot.standing_worker", "loop", db_url], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def play(db_url: str, *, days: int, workers: int = 3, kill_every: int = 5, step: timedelta = timedelta(hours=12),
         seed: int = 7, timeout: float = 600) -> int:
    """Run `workers` processes while the shared clock moves from START over `days`, SIGKILLing one (mid-run,
    at a random moment after a clock step) every `kill_every` steps and starting a new one; the kills."""
    from bot.standing.models import DUE, Occurrence
    from ledger import create_engine

    rnd = random.Random(seed)
    db = create_engine(db_url)
    procs = [_spawn(db_url) for _ in range(workers)]
    kills = 0
    deadline = time.monotonic() + timeout
    now, end, k = START, START + timedelta(days=days), 0
    try:
        while now < end:
            now = min(end, now + step)
            _set_clock(db, now.isoformat())
            k += 1
            if k % kill_every == 0:
                time.sleep(rnd.uniform(0.0, 0.3))  # let them claim and run, then kill one in the middle
                victim = rnd.randrange(len(procs))
                procs[victim].send_signal(signal.SIGKILL)
                procs[victim].wait()
                kills += 1
                procs[victim] = _spawn(db_url)
            while time.monotonic() < deadline:  # the step's work is done before the clock moves on
                with Session(db) as s:
                    left = s.exec(select(sa.func.count()).select_from(Occurrence).where(
                        Occurrence.status == DUE, Occurrence.run_after <= now)).one()
                    from bot.models import Schedule

                    behind = s.exec(select(sa.func.count()).select_from(Schedule).where(
                        Schedule.status == "active", Schedule.next_run <= now)).one()
                if left == 0 and behind == 0:
                    break
                time.sleep(0.05)
            else:
                raise TimeoutError("workers did not finish the due occurrences")
    finally:
        _set_clock(db, "stop")
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        db.dispose()
    return kills


def count(db_url: str, schedule_ids: list[int], days: int, kills: int) -> Counts:
    """Count occurrences, runs and transfers by id; check the ledger."""
    from bot.models import Schedule
    from bot.standing.models import DONE, Occurrence
    from bot.standing.runner import recurrence_of
    from ledger import Ledger, create_engine
    from ledger.tables import transfers

    db = create_engine(db_url)
    end = START + timedelta(days=days)
    with Session(db) as s:
        due = 0
        for sid in schedule_ids:
            row = s.get(Schedule, sid)
            assert row is not None
            due += len(recurrence_of(row).between(START, end))
        occ = s.exec(select(Occurrence)).all()
        done = [o for o in occ if o.status == DONE]
        keys = [(o.schedule_id, o.due_at) for o in occ]
    with db.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.select(transfers.c.id).where(transfers.c.id.like("proc-%")))]
    per_occurrence: dict[str, int] = {}
    for tid in ids:
        base = tid.rsplit(":", 1)[0]  # <action>@<time>[:tryN]:<leg>
        base = base.split(":try", 1)[0]
        per_occurrence[base] = per_occurrence.get(base, 0) + 1
    duplicates = sum(n - 1 for n in per_occurrence.values() if n > 1) + (len(keys) - len(set(keys)))
    done_ids = {o.run_id.split(":try", 1)[0] for o in done if o.run_id}
    missed = due - len(done_ids & set(per_occurrence))
    ledger = Ledger(db)
    ok = ledger.check().ok
    db.dispose()
    return Counts(due=due, rows=len(occ), run=len(done), transfers=len(ids), duplicates=duplicates, missed=missed,
                  kills=kills, ledger_ok=ok)


def main(argv: list[str]) -> Any:
    """python -m tests.bot.standing_procs DB_URL DAYS DAILY WEEKLY"""
    db_url, days, daily, weekly = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    ids = setup(db_url, payers=4, daily=daily, weekly=weekly)
    kills = play(db_url, days=days)
    print(count(db_url, ids, days, kills).line())


if __name__ == "__main__":
    main(sys.argv[1:])
