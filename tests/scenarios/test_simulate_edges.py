"""`finbot simulate` at its edges: a NUL byte in a message gets a clear answer on every database, and
two simulate processes on one database draw event ids atomically (no event dropped as a redelivery)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from bot.models import ProcessedEvent
from ledger import create_engine
from tests.scenarios.test_scenarios import NOW, finbot


def _lines(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(x) for x in items) + "\n")
    return path


def test_a_nul_byte_in_a_message_is_refused_clearly(db_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "OUTPUT_DIR": str(tmp_path / "out"), "TELEGRAM_BOT_TOKEN": ""}
    play = _lines(tmp_path / "nul.jsonl", [
        {"user": "alice", "chat": "dm", "text": "/start"},
        {"user": "alice", "chat": "dm", "text": "send $5\u0000 to @bob"},
        {"user": "alice", "chat": "dm", "text": "\u0000", "lang": "fr"},
        {"user": "alice", "chat": "dm", "text": "show balance"},
    ])
    done = finbot("simulate", "--db", db_url, "--now", NOW, str(play), env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    shown = [json.loads(line) for line in done.stdout.splitlines()]
    assert "NUL" in shown[1]["text"] and "NUL" in shown[2]["text"]
    assert shown[2]["text"] != shown[1]["text"], "answered in the person's language"
    assert "$" in shown[-1]["text"], "the next message is read as usual (the balance, in French now)"


def test_a_nul_byte_in_a_user_name_stops_the_run_naming_the_line(sqlite_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "OUTPUT_DIR": str(tmp_path / "out")}
    play = _lines(tmp_path / "bad.jsonl", [{"user": "al\u0000ice", "chat": "dm", "text": "/start"}])
    done = finbot("simulate", "--db", sqlite_url, str(play), env=env, check=False)
    assert done.returncode == 2 and "line 1" in done.stderr


def test_two_simulate_processes_on_one_database_drop_no_event(db_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "OUTPUT_DIR": str(tmp_path / "out"), "TELEGRAM_BOT_TOKEN": ""}
    n = 120
    files = [_lines(tmp_path / f"{who}.jsonl", [{"user": who, "chat": "dm", "text": "/help"}] * n) for who in ("ann", "ben")]
    # one world first, so both runs continue it (and neither makes the tables while the other does)
    finbot("simulate", "--db", db_url, "--now", NOW, str(_lines(tmp_path / "0.jsonl", [{"user": "zed", "chat": "dm", "text": "/start"}])), env=env)
    cmd = [sys.executable, "-m", "adapters.cli.main", "simulate", "--db", db_url]
    procs = [subprocess.Popen([*cmd, str(f)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    for who, (out, _) in zip(("ann", "ben"), outs, strict=True):
        answered = [json.loads(line) for line in out.splitlines() if line.strip()]
        assert len([a for a in answered if a["chat"] == f"dm:{who}"]) == n, f"{who}: events were dropped"
    db = create_engine(db_url)
    with Session(db) as s:
        assert s.exec(select(func.count()).select_from(ProcessedEvent)).one()[0] == 1 + 2 * n
    db.dispose()
