"""Escrow's fate is one ledger fact: a hold posted on to the payee or voided back, never both,
whatever two processes do at once and wherever a process dies."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from adapters.local.world import LocalWorld
from bot import escrow
from bot.escrow import reconcile
from bot.models import Escrow
from ledger import TransferStatus
from tests.bot.conftest import START
from tests.bot.test_engine import balance, onboard, texts

ROOT = Path(__file__).resolve().parents[2]


def _send(w: LocalWorld, to: str, amount: str = "$5") -> None:
    w.render(w.say("alice", "dm", f"send {amount} to @{to}"))
    w.render(w.press("alice", "dm", "Confirm") or [])
    w.render(w.say("alice", "dm", "4826"))


def _rows(w: LocalWorld) -> dict[str, Escrow]:
    with Session(w.db) as s:
        return {r.handle: r for r in s.exec(select(Escrow)).all()}


def _green(w: LocalWorld) -> None:
    report = w.engine.ledger.check()
    assert report.ok, report.problems
    assert reconcile(w.db, w.engine.ledger) == []


def _run(*args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": ""}
    env.pop("FINBOT_CRASH_AT", None)
    if crash_at:
        env["FINBOT_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "tests.bot.processes", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_escrow_is_a_hold_and_the_escrow_account_cannot_go_negative(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    _send(world, "dave", "$30")
    row = _rows(world)["dave"]
    hold = world.engine.ledger.lookup_transfer(row.transfer_id)
    assert hold is not None and hold.status == TransferStatus.PENDING
    acc = world.engine.ledger.find_account("system", "USD", "escrow")
    assert acc is not None and acc.flags != 0
    assert escrow.fate(world.engine.ledger, row.transfer_id) == escrow.HELD
    _green(world)
    shown = world.render(world.say("dave", "dm", "/start"))
    assert "30.00" in texts(shown) and balance(world, "dave") == 3000
    # claimed is claimed: a return of the same hold is refused by the ledger, and says so
    assert escrow.give_back(world.engine.ledger, row.transfer_id) == escrow.CLAIMED
    assert balance(world, "alice") == 2000
    _green(world)


def test_ledger_check_reconciles_escrow_rows_against_the_holds(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    _send(world, "dave", "$30")
    with Session(world.db) as s:
        row = s.exec(select(Escrow)).one()
        row.status = "returned"  # a row that lies about its hold
        s.add(row)
        s.commit()
    problems = reconcile(world.db, world.engine.ledger)
    assert any("the ledger says the hold is held" in p for p in problems), problems
    assert any("on hold" in p for p in problems), problems
    with Session(world.db) as s:
        row = s.exec(select(Escrow)).one()
        row.status = "held"
        s.add(row)
        s.commit()


def test_sweep_and_claim_in_two_processes_pay_exactly_once(world: LocalWorld, db_url: str) -> None:
    rounds = 8
    onboard(world, "alice", topup="$100")
    for i in range(rounds):
        world.set_now(START + timedelta(hours=i))
        _send(world, f"payee{i}")
    # round i: escrow i alone is due for the sweep (7 days after it was sent), while payee i writes /start
    plan = [(f"payee{i}", (START + timedelta(days=7, hours=i, minutes=30)).isoformat()) for i in range(rounds)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(role, db_url, plan, barrier, results)) for role in ("sweep", "claim")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=600)
    assert [p.exitcode for p in procs] == [0, 0]
    rows = _rows(world)
    fates = Counter()
    for i in range(rounds):
        row = rows[f"payee{i}"]
        fate = escrow.fate(world.engine.ledger, row.transfer_id)
        assert row.status == fate, (i, row.status, fate)
        paid = balance(world, f"payee{i}")
        assert paid == (500 if fate == escrow.CLAIMED else 0), (i, fate, paid)
        fates[fate] += 1
    assert sum(fates.values()) == rounds and set(fates) <= {escrow.CLAIMED, escrow.RETURNED}
    claimed = fates[escrow.CLAIMED]
    assert balance(world, "alice") == 10000 - 500 * claimed
    _green(world)
    print(f"escrow race on {db_url.split(':')[0]}: {dict(fates)}")


def _race(role: str, db_url: str, plan: list[tuple[str, str]], barrier: object, results: object) -> None:
    from tests.bot.processes import race_worker

    race_worker(role, db_url, plan, barrier, results)


def test_a_sweep_killed_after_its_refund_then_the_claim_pays_once(world: LocalWorld, db_url: str) -> None:
    onboard(world, "alice", topup="$50")
    _send(world, "erin", "$20")
    later = (START + timedelta(days=8)).isoformat()
    killed = _run("sweep", db_url, later, crash_at="escrow_return_committed")
    assert killed.returncode == -9, killed.stderr[-2000:]
    row = _rows(world)["erin"]
    assert row.status == escrow.HELD  # the row was not written: the process died after the ledger's commit
    assert balance(world, "alice") == 5000  # the refund is in: the hold was voided
    claimed = _run("say", db_url, later, "erin", "/start")
    assert claimed.returncode == 0, claimed.stderr[-2000:]
    assert balance(world, "erin") == 0 and balance(world, "alice") == 5000
    assert _rows(world)["erin"].status == escrow.RETURNED
    again = _run("sweep", db_url, later)
    assert again.returncode == 0 and balance(world, "alice") == 5000
    _green(world)


def test_a_claim_killed_after_its_payment_then_the_sweep_returns_nothing(world: LocalWorld, db_url: str) -> None:
    onboard(world, "alice", topup="$50")
    _send(world, "erin", "$20")
    later = (START + timedelta(days=8)).isoformat()
    killed = _run("say", db_url, later, "erin", "/start", crash_at="escrow_claim_committed")
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert balance(world, "erin") == 2000 and _rows(world)["erin"].status == escrow.HELD
    swept = _run("sweep", db_url, later)
    assert swept.returncode == 0, swept.stderr[-2000:]
    assert balance(world, "erin") == 2000 and balance(world, "alice") == 3000
    assert _rows(world)["erin"].status == escrow.CLAIMED
    _green(world)
