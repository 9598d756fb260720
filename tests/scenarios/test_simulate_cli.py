"""`finbot simulate` stops with exit 2 and the line number on a line it cannot read, and continues one world."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.scenarios.test_scenarios import finbot


def test_unreadable_line_stops_with_exit_2_and_its_number(sqlite_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"user": "alice", "chat": "dm", "text": "/start"}\n\n{"user": "alice", "chat": "dm", "text": \n')
    env = {**os.environ, "OUTPUT_DIR": str(tmp_path / "out")}
    done = finbot("simulate", "--db", sqlite_url, str(bad), env=env, check=False)
    assert done.returncode == 2
    assert "line 3" in done.stderr
    assert len(done.stdout.splitlines()) == 1  # the first line was played


def test_runs_on_one_database_continue_one_world(sqlite_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "OUTPUT_DIR": str(tmp_path / "out")}
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    first.write_text("\n".join(json.dumps(x) for x in [
        {"user": "alice", "chat": "dm", "text": "/start"}, {"user": "alice", "chat": "dm", "text": "/pin"},
        {"user": "alice", "chat": "dm", "text": "4826"}, {"user": "alice", "chat": "dm", "text": "4826"},
        {"user": "alice", "chat": "dm", "text": "top up $30"}]) + "\n")
    second.write_text("\n".join(json.dumps(x) for x in [
        {"user": "alice", "chat": "dm", "press": "Confirm"}, {"user": "alice", "chat": "dm", "text": "4826"}]) + "\n")
    assert finbot("simulate", "--db", sqlite_url, "--now", "2026-11-18T12:00:00Z", str(first), env=env).returncode == 0
    assert finbot("simulate", "--db", sqlite_url, str(second), env=env).returncode == 0
    balances = json.loads(finbot("ledger", "balances", "--db", sqlite_url, "--json", env=env).stdout)
    assert balances["@alice"]["USD"] == "30.00"  # the card of the first run was confirmed in the second
