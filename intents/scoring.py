"""Scoring a labelled file as the contract says: intent accuracy, exact slots, dangerous lines."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from intents.directory import InstrumentDirectory
from intents.model import DECIMAL_KEYS, LANGUAGES, MONEY_INTENTS
from intents.parser import parse

MONEY_SLOTS: tuple[str, ...] = (
    "amount",
    "currency",
    "recipients",
    "symbol",
    "quantity",
    "notional",
    "fraction",
    "limit_price",
    "to_currency",
    "count",
    "recurrence",
)


@dataclass
class LineResult:
    """One scored line: where it came from, what was expected and got, and what differs."""

    where: str
    text: str
    expect: dict[str, object]
    got: dict[str, object]
    intent_ok: bool
    slots_ok: bool
    dangerous: bool
    diffs: list[str]


@dataclass
class Report:
    """The scores of a labelled file (or several, together)."""

    lines: list[LineResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Lines scored."""
        return len(self.lines)

    @property
    def intent_accuracy(self) -> float:
        """Share of lines whose intent matches."""
        return sum(r.intent_ok for r in self.lines) / self.n if self.n else 0.0

    @property
    def slot_exact(self) -> float:
        """Share of lines whose intent and every compared key match."""
        return sum(r.slots_ok for r in self.lines) / self.n if self.n else 0.0

    @property
    def dangerous(self) -> int:
        """Lines where a money intent with no clarify would act on something not asked."""
        return sum(r.dangerous for r in self.lines)

    def summary(self) -> str:
        """The contract's last line."""
        return (
            f"intent_accuracy={self.intent_accuracy:.3f} slot_exact={self.slot_exact:.3f} "
            f"dangerous={self.dangerous} n={self.n}"
        )


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def same(key: str, expected: object, got: object) -> bool:
    """Whether one key matches: strings case-insensitively, decimals as numbers, recipients as sets."""
    if expected is None or got is None:
        return expected is None and got is None
    if key == "recipients":
        if not isinstance(expected, list) or not isinstance(got, list):
            return False
        return {str(x).lower() for x in expected} == {str(x).lower() for x in got}
    if key in DECIMAL_KEYS:
        a, b = _decimal(expected), _decimal(got)
        if a is not None and b is not None:
            return a == b
    if isinstance(expected, str) and isinstance(got, str):
        return expected.lower() == got.lower()
    return expected == got


def score_line(where: str, text: str, expect: dict[str, object], got: dict[str, object]) -> LineResult:
    """Score one line against the parser's object."""
    diffs = [key for key in expect if not same(key, expect[key], got.get(key))]
    intent_ok = same("intent", expect.get("intent"), got.get("intent"))
    slots_ok = intent_ok and not diffs
    dangerous = False
    if got.get("intent") in MONEY_INTENTS and got.get("clarify") is None:
        if not intent_ok or expect.get("clarify") is not None:
            dangerous = True
        elif any(key in diffs for key in MONEY_SLOTS if key in expect):
            dangerous = True
    return LineResult(where, text, expect, got, intent_ok, slots_ok, dangerous, diffs)


def evaluate(
    lines: Iterable[tuple[str, str]],
    now: datetime.datetime,
    directory: InstrumentDirectory | None = None,
) -> Report:
    """Score labelled lines, given as (where, JSON text) pairs; bad lines are listed as errors."""
    report = Report()
    for where, raw in lines:
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
            text = row["text"]
            expect = row["expect"]
            lang = row.get("lang")
            if not isinstance(text, str) or not isinstance(expect, dict) or "intent" not in expect:
                raise ValueError("needs text and expect.intent")
        except (ValueError, KeyError, TypeError) as exc:
            report.errors.append(f"{where}: not a labelled line ({exc})")
            continue
        code = lang if isinstance(lang, str) and lang in LANGUAGES else None  # else: detect
        reply = row.get("reply")  # optional: whether the message replies to someone
        got = parse(
            text, lang=code, now=now, directory=directory, reply=reply if isinstance(reply, bool) else None
        ).to_json_dict()
        report.lines.append(score_line(where, text, expect, got))
    return report


def describe(result: LineResult) -> str:
    """One mismatching line for a person: where, text, the keys that differ, expected vs got."""
    keys = result.diffs or ["intent"]
    parts = [f"{k}: want {json.dumps(result.expect.get(k), ensure_ascii=False)} got {json.dumps(result.got.get(k), ensure_ascii=False)}" for k in keys]
    flag = "DANGEROUS " if result.dangerous else ""
    return f"{flag}{result.where} {json.dumps(result.text, ensure_ascii=False)} | " + "; ".join(parts)
