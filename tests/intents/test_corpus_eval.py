"""The labelled corpus scores as the issue asks, through the same function `finbot intents eval` uses."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli.intents_cmd import app
from intents.model import INTENTS
from intents.scoring import evaluate

from .conftest import NOW

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.jsonl"))
# Written before the parser was run on it and never tuned on (tests/intents/heldout/README.md).
HELDOUT = sorted((Path(__file__).parent / "heldout").glob("*.jsonl"))
# Measured on the held-out part when it was first run (issue 9): 0.975 and 0.969, dangerous=0.
HELDOUT_INTENT_ACCURACY = 0.97
HELDOUT_SLOT_EXACT = 0.96
NOW_ARG = "2026-11-18T12:00:00+00:00"


def _rows() -> list[dict[str, object]]:
    return [json.loads(line) for path in CORPUS for line in path.read_text("utf-8").splitlines() if line.strip()]


def test_corpus_has_the_shape_the_issue_asks_for() -> None:
    rows = _rows()
    assert len(rows) >= 600
    assert {r["lang"] for r in rows} == {"en", "nb", "fr"}
    intents = Counter(r["expect"]["intent"] for r in rows)  # type: ignore[index]
    assert set(intents) == set(INTENTS)
    assert intents["none"] / len(rows) >= 0.15
    clarify = sum(1 for r in rows if r["expect"].get("clarify"))  # type: ignore[attr-defined]
    assert clarify / len(rows) >= 0.10


def test_corpus_scores() -> None:
    lines = [(f"{p.name}:{i}", raw) for p in CORPUS for i, raw in enumerate(p.read_text("utf-8").splitlines(), 1)]
    report = evaluate(lines, NOW)
    assert not report.errors
    failing = [f"{r.where} {r.text!r} {r.diffs}" for r in report.lines if not r.slots_ok]
    assert report.dangerous == 0, [f"{r.where} {r.text!r}" for r in report.lines if r.dangerous]
    # Measured 1.000 and 1.000 on 947 lines (issue 9).
    assert report.intent_accuracy >= 0.995, failing
    assert report.slot_exact >= 0.995, failing


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_cli_eval_last_line(path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(path), "--now", NOW_ARG])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    fields = dict(kv.split("=") for kv in last.split())
    assert set(fields) == {"intent_accuracy", "slot_exact", "dangerous", "n"}
    assert float(fields["intent_accuracy"]) >= 0.98
    assert float(fields["slot_exact"]) >= 0.95
    assert fields["dangerous"] == "0"
    assert int(fields["n"]) == len([x for x in path.read_text("utf-8").splitlines() if x.strip()])


def _lines(paths: list[Path]) -> list[tuple[str, str]]:
    return [(f"{p.parent.name}/{p.name}:{i}", raw) for p in paths for i, raw in enumerate(p.read_text("utf-8").splitlines(), 1)]


def test_heldout_has_the_shape_the_issue_asks_for() -> None:
    rows = [json.loads(raw) for _where, raw in _lines(HELDOUT) if raw.strip()]
    assert len(rows) >= 150
    assert Counter(r["lang"] for r in rows).keys() == {"en", "nb", "fr"}
    assert min(Counter(r["lang"] for r in rows).values()) >= 45
    assert sum(1 for r in rows if r["expect"].get("clarify")) >= 30
    assert sum(1 for r in rows if r["expect"]["intent"] == "none") >= 5


def test_heldout_scores() -> None:
    report = evaluate(_lines(HELDOUT), NOW)
    assert not report.errors
    assert report.dangerous == 0, [f"{r.where} {r.text!r}" for r in report.lines if r.dangerous]
    failing = [f"{r.where} {r.text!r} {r.diffs}" for r in report.lines if not r.slots_ok]
    assert report.intent_accuracy >= HELDOUT_INTENT_ACCURACY, failing
    assert report.slot_exact >= HELDOUT_SLOT_EXACT, failing


def test_a_line_may_say_whether_it_is_a_reply() -> None:
    line = '{"text": "send 20 to her", "lang": "en", "reply": %s, "expect": {"intent": "send", "recipients": ["reply"]}}'
    assert evaluate([("a", line % "true")], NOW).slot_exact == 1.0
    no_reply = evaluate([("b", line % "false")], NOW)
    assert no_reply.slot_exact == 0.0 and no_reply.dangerous == 0
