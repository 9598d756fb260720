"""Every scenario in tests/scenarios, played by `finbot simulate` on SQLite and PostgreSQL, then checked."""

from __future__ import annotations

import json
import os
import re
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
    env = {**os.environ, "DATABASE_URL": db_url, "OUTPUT_DIR": str(tmp_path / "out"), "TELEGRAM_BOT_TOKEN": "",
           "PIN_KEY_FILE": str(tmp_path / "pin.key")}
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
    # the digits of every PIN typed never come back in anything the bot says, nor stay in any
    # message of the chats' log that was not deleted (the person's own included)
    leaks = pin_leaks(typed_pins(scenario, expect), [item["text"] for item in shown], visible_messages(db_url))
    assert not leaks, leaks


def typed_pins(scenario: Path, expect: dict[str, Any]) -> set[str]:
    """Every PIN-shaped line (4 to 8 digits) typed in the scenario, but those listed as not PINs."""
    lines = [json.loads(ln) for ln in scenario.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.lstrip().startswith(("#", "//"))]
    typed = {str(ln["text"]).strip() for ln in lines if isinstance(ln.get("text"), str)}
    return {t for t in typed if re.fullmatch(r"\d{4,8}", t)} - set(expect.get("not_pins", []))


def visible_messages(db_url: str) -> list[str]:
    """The text of every message in the local chats' log that was not deleted (anyone's)."""
    import sqlalchemy as sa

    from adapters.local.world import messages
    from ledger import create_engine

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(messages.c.text).where(messages.c.deleted == sa.false())).scalars())
    finally:
        engine.dispose()


def pin_leaks(pins: set[str], *texts: list[str]) -> list[tuple[str, str]]:
    """(PIN, text) for every text where the PIN's digits appear, also inside a formatted number
    ("$4,826.00", "48 26", "48.26" read as 4826), not preceded by another digit."""
    out: list[tuple[str, str]] = []
    for group in texts:
        for text in group:
            flat = re.sub(r"(?<=\d)[,.\u00a0\u202f' ](?=\d)", "", text)
            out += [(pin, text) for pin in pins if re.search(rf"(?<!\d){pin}", flat)]
    return out


def test_the_pin_leak_check_fails_on_a_leak(tmp_path: Path, sqlite_url: str) -> None:
    """The check above can fail: digits typed in a group that the bot leaves alone stay in the log,
    and an amount that shows a PIN's digits is caught."""
    scenario = tmp_path / "leak.jsonl"
    scenario.write_text("\n".join(json.dumps(x) for x in [
        {"chat": "g:trip", "members": ["alice", "bob"]},
        {"user": "alice", "chat": "g:trip", "text": "5917"},  # no PIN of anyone's: not deleted, still visible
    ]) + "\n")
    env = {**os.environ, "DATABASE_URL": sqlite_url, "OUTPUT_DIR": str(tmp_path / "out"), "TELEGRAM_BOT_TOKEN": ""}
    played = finbot("simulate", "--db", sqlite_url, "--now", NOW, str(scenario), env=env, check=False)
    assert played.returncode == 0, played.stderr
    assert pin_leaks(typed_pins(scenario, {}), visible_messages(sqlite_url)) == [("5917", "5917")]
    assert pin_leaks({"5917"}, ["Send $5,917.00 to @bob"]) and pin_leaks({"4826"}, ["48 26"])
    assert not pin_leaks({"5917"}, ["Send $15,917.00", "2026-11-18"]) and not pin_leaks(typed_pins(scenario, {"not_pins": ["5917"]}), ["5917"])
