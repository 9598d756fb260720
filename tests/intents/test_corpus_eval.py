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
    assert report.intent_accuracy >= 0.98, failing
    assert report.slot_exact >= 0.95, failing


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
