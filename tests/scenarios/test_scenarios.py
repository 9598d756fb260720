"""Every scenario in tests/scenarios, played by `finbot simulate` on SQLite and PostgreSQL, then checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
SCENARIOS = sorted(HERE.glob("*.jsonl"))
NOW = "2026-11-18T12:00:00+00:00"


def finbot(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "adapters.cli.main", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=check, timeout=300)


def _positions_and_holds(db_url: str) -> dict[str, dict[str, dict[str, str]]]:
    """Shares held per user (position accounts) and cash on hold per user (pending debits of wallets)."""
    from ledger import Ledger, from_minor

    ledger = Ledger(db_url)
    out: dict[str, dict[str, dict[str, str]]] = {"positions": {}, "holds": {}}
    for acc in ledger.accounts():
        who = acc.label or acc.owner
        bal = ledger.balance(acc.id)
        if acc.kind == "position":
            out["positions"].setdefault(who, {})[acc.asset.split(":", 1)[1]] = str(from_minor(bal.posted, acc.asset))
        elif acc.kind == "wallet":
            out["holds"].setdefault(who, {})[acc.asset] = str(from_minor(bal.debits_pending, acc.asset))
    ledger.engine.dispose()
    return out


def _matches(item: dict[str, Any], pattern: dict[str, Any]) -> bool:
    for key, want in pattern.items():
        if key == "text_contains":
            if want.lower() not in str(item.get("text", "")).lower():
                return False
        elif item.get(key) != want:
            return False
    return True


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(scenario: Path, db_url: str, tmp_path: Path) -> None:
    expect = json.loads(scenario.with_suffix(".expect.json").read_text())
    env = {**os.environ, "DATABASE_URL": db_url, "OUTPUT_DIR": str(tmp_path / "out"), "TELEGRAM_BOT_TOKEN": ""}
    played = finbot("simulate", "--db", db_url, "--now", expect.get("now", NOW), str(scenario), env=env, check=False)
    assert played.returncode == 0, played.stderr
    shown = [json.loads(line) for line in played.stdout.splitlines() if line.strip()]
    assert shown, "the bot said nothing"
    for item in shown:
        assert set(item) >= {"chat", "text"}, item

    balances = json.loads(finbot("ledger", "balances", "--db", db_url, "--json", env=env).stdout)
    for who, per_currency in expect.get("balances", {}).items():
        for cur, amount in per_currency.items():
            got = balances.get(who, {}).get(cur, "0.00")
            assert got == amount, f"{who} {cur}: {got} != {amount}\n{played.stdout}"

    if "positions" in expect or "holds" in expect:
        held = _positions_and_holds(db_url)
        for who, per_symbol in expect.get("positions", {}).items():
            for symbol, qty in per_symbol.items():
                assert Decimal(held["positions"].get(who, {}).get(symbol, "0")) == Decimal(qty), (who, symbol, held)
        for who, per_currency in expect.get("holds", {}).items():
            for cur, amount in per_currency.items():
                assert held["holds"].get(who, {}).get(cur, "0.00") == amount, (who, cur, held)

    checked = finbot("ledger", "check", "--db", db_url, env=env, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    for pattern in expect.get("shown", []):
        assert any(_matches(item, pattern) for item in shown), f"nothing shown like {pattern}"
    for who in expect.get("notices_to", []):
        assert any(item.get("notice") and item.get("to") == who for item in shown), f"no notice to {who}"
    for name in expect.get("files", []):
        assert (tmp_path / "out" / name).stat().st_size > 0
    # a PIN typed in a group or in private never comes back in anything the bot says
    for item in shown:
        assert "PIN:" not in item["text"]
