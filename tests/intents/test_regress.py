"""Lines beyond the corpus, read by hand once and kept: each must still read exactly so."""

from __future__ import annotations

from pathlib import Path

from intents.scoring import describe, evaluate

from .conftest import NOW

REGRESS = Path(__file__).parent / "regress.jsonl"


def test_regression_lines_read_exactly() -> None:
    lines = [(f"regress.jsonl:{i}", raw) for i, raw in enumerate(REGRESS.read_text("utf-8").splitlines(), 1)]
    report = evaluate(lines, NOW)
    assert report.n >= 90 and not report.errors
    assert report.dangerous == 0
    assert [describe(r) for r in report.lines if not r.slots_ok] == []
