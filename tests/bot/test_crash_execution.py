"""A process killed inside an execution (after the ledger's commit, before the action's record) is
finished exactly once after a restart: balances right, `ledger check` green."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from adapters.local.world import LocalWorld
from bot.escrow import reconcile
from bot.models import Action
from tests.bot.conftest import START
from tests.bot.test_engine import balance, onboard

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, crash_at: str | None = None, key: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": ""}
    if key is not None:  # the parent world's PIN key, outside the database
        env["PIN_KEY_FILE"] = str(key)
    env.pop("FINBOT_CRASH_AT", None)
    if crash_at:
        env["FINBOT_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "tests.bot.processes", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("what", ["send $20 to @bob", "top up $20", "send $20 to @nobody_yet"])
def test_killed_between_ledger_commit_and_record_resumes_once(world: LocalWorld, db_url: str, what: str) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "bob")
    world.render(world.say("alice", "dm", what))
    world.render(world.press("alice", "dm", "Confirm") or [])
    kind = "deposit" if what.startswith("top up") else "send"
    killed = _run("say", db_url, START.isoformat(), "alice", "4826", crash_at="after_ledger_commit",
                  key=world.engine.settings.pin_key_path())
    assert killed.returncode == -9, killed.stderr[-2000:]
    with Session(world.db) as s:
        stuck = s.exec(select(Action).where(Action.kind == kind, Action.status == "executing")).all()
        assert len(stuck) == 1  # the ledger committed; the record did not happen
        action_id = stuck[0].id
    moved = world.engine.ledger.lookup_transfer(f"{action_id}:0")
    assert moved is not None, "the money moved before the kill"
    before = (balance(world, "alice"), balance(world, "bob"))
    # the restart: due work finishes what was executing
    resumed = _run("sweep", db_url, START.isoformat())
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Done" in resumed.stdout
    with Session(world.db) as s:
        a = s.get(Action, action_id)
        assert a is not None and a.status == "executed"
    assert (balance(world, "alice"), balance(world, "bob")) == before, "resuming moved nothing more"
    want = {"send $20 to @bob": (3000, 2000), "top up $20": (7000, 0), "send $20 to @nobody_yet": (5000, 0)}[what]
    assert before == want
    # again: nothing more, whatever is pressed or typed
    world.render(world.say("alice", "dm", "4826"))
    _run("sweep", db_url, START.isoformat())
    assert (balance(world, "alice"), balance(world, "bob")) == want
    report = world.engine.ledger.check()
    assert report.ok, report.problems
    assert reconcile(world.db, world.engine.ledger) == []
