"""`finbot intents eval` scores exactly as the contract's last section says."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from adapters.cli.intents_cmd import app
from intents.scoring import evaluate, same, score_line

from .conftest import NOW


def _got(**slots: object) -> dict[str, object]:
    base: dict[str, object] = {
        "intent": "none", "lang": "en", "amount": None, "currency": None, "recipients": [],
        "symbol": None, "quantity": None, "notional": None, "fraction": None, "limit_price": None,
        "recurrence": None, "when": None, "note": None, "clarify": None,
    }
    base.update(slots)
    return base


def test_comparison_rules() -> None:
    assert same("amount", "20", "20.00")
    assert same("fraction", "0.5", ".5")
    assert not same("amount", "20", "200")
    assert same("currency", "usd", "USD")
    assert same("note", "Le Resto", "le resto")
    assert same("recipients", ["@Bob", "@anna"], ["@anna", "@bob"])
    assert not same("recipients", ["@anna"], ["@anna", "@bob"])
    assert same("when", None, None)
    assert not same("amount", None, "20")


def test_only_expected_keys_are_compared() -> None:
    r = score_line("x", "t", {"intent": "send", "amount": "20"}, _got(intent="send", amount="20", note="extra"))
    assert r.intent_ok and r.slots_ok and not r.dangerous


def test_dangerous_cases() -> None:
    # money intent, no clarify, expected another intent
    assert score_line("x", "t", {"intent": "none"}, _got(intent="send", amount="20")).dangerous
    # expected a clarify
    assert score_line("x", "t", {"intent": "send", "clarify": "missing_amount"}, _got(intent="send")).dangerous
    # a money slot differs
    assert score_line("x", "t", {"intent": "send", "amount": "20"}, _got(intent="send", amount="2")).dangerous
    # a non-money slot differs: wrong, but not dangerous
    r = score_line("x", "t", {"intent": "send", "note": "pizza"}, _got(intent="send", note="beer"))
    assert not r.slots_ok and not r.dangerous
    # a clarify makes it safe, as does a non-money intent
    assert not score_line("x", "t", {"intent": "none"}, _got(intent="send", clarify="missing_amount")).dangerous
    assert not score_line("x", "t", {"intent": "none"}, _got(intent="balance")).dangerous


def test_evaluate_reports_bad_lines() -> None:
    report = evaluate([("f:1", "not json"), ("f:2", json.dumps({"text": "hi", "lang": "en", "expect": {"intent": "none"}}))], NOW)
    assert report.errors and report.n == 1 and report.intent_accuracy == 1.0


def test_cli_prints_mismatches_above_the_summary(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [
        {"text": "send $20 to @anna", "lang": "en", "expect": {"intent": "send", "amount": "20", "currency": "USD", "recipients": ["@anna"]}},
        {"text": "send $20 to @anna", "lang": "en", "expect": {"intent": "send", "amount": "30"}},
        {"text": "lol", "lang": "en", "expect": {"intent": "help"}},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", str(path), "--now", "2026-11-18T12:00:00+00:00"])
    assert result.exit_code == 0
    out = result.output.strip().splitlines()
    assert out[-1] == "intent_accuracy=0.667 slot_exact=0.333 dangerous=1 n=3"
    assert any("t.jsonl:2" in line and "DANGEROUS" in line for line in out[:-1])
    assert any("t.jsonl:3" in line for line in out[:-1])
