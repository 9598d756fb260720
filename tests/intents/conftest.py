"""Shared helpers for the intent parser's tests: a fixed `now` and a one-call parse."""

from __future__ import annotations

import datetime

import pytest

from intents import Intent, parse

NOW = datetime.datetime(2026, 11, 18, 12, 0, tzinfo=datetime.UTC)  # a Wednesday


def read(text: str, lang: str | None = None, **kw: object) -> Intent:
    """Parse with the fixed now."""
    return parse(text, lang=lang, now=NOW, **kw)  # type: ignore[arg-type]


def slots(text: str, lang: str | None = None) -> dict[str, object]:
    """The contract object, without the keys that are null or empty."""
    return {k: v for k, v in read(text, lang).to_json_dict().items() if v not in (None, [])}


@pytest.fixture
def now() -> datetime.datetime:
    return NOW
