"""`/admin` verbs: a closed set read into typed commands; the help lists each verb on one line, in nb and fr too."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bot.operators.verbs import USAGES, OpCommand, Unparsed, help_text, parse


def test_each_verb_reads() -> None:
    assert parse("freeze @Bob card stolen") == OpCommand("freeze", handle="bob", reason="card stolen", text="freeze @Bob card stolen")
    assert parse("reverse x:1:0 12.50 wrong payee").amount == Decimal("12.50")  # type: ignore[union-attr]
    r = parse("reverse x:1:0 wrong payee")
    assert isinstance(r, OpCommand) and r.amount is None and r.reason == "wrong payee" and r.transfer_id == "x:1:0"
    lim = parse("limits @bob per_day=100 per_month=none")
    assert isinstance(lim, OpCommand) and lim.limits == {"per_day": Decimal(100), "per_month": None}
    assert parse("tier @bob 2").tier == 2  # type: ignore[union-attr]
    assert parse("resetpin @bob").verb == "pin-reset"  # type: ignore[union-attr]
    assert parse("audit 2026-11-01").since == datetime(2026, 11, 1, tzinfo=UTC)  # type: ignore[union-attr]
    assert parse("audit @bob").handle == "bob"  # type: ignore[union-attr]
    assert parse("").verb == "help"  # type: ignore[union-attr]


def test_what_is_not_in_the_set_is_refused_with_the_usage() -> None:
    for text in ("drop @bob", "reverse x:1:0", "reverse x:1:0 5", "limits @bob", "limits @bob per_week=5",
                 "limits @bob per_day=-3", "tier @bob two", "freeze", "user @bob extra", "audit yesterday"):
        got = parse(text)
        assert isinstance(got, Unparsed), text
        assert got.text("en")


def test_help_is_one_line_a_verb_in_each_language() -> None:
    for lang in ("en", "nb", "fr"):
        lines = help_text(lang).splitlines()
        assert [ln.split(" — ")[0] for ln in lines] == list(USAGES)
