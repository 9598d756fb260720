"""The fast path (a whole message that is one slot-less phrase) reads exactly as the full path."""

from __future__ import annotations

import pytest

import intents.parser as parser
from intents.lexicon import common

from .conftest import NOW


@pytest.mark.parametrize("lang", common().languages)
def test_fast_path_agrees_with_the_full_reading(lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    table = parser.whole_phrases(lang)
    assert table
    phrases = [p for cat, value, p in parser.lexicon(lang).phrases if cat == "intent" and parser.phrase_key(p) in table]
    fast = {p: parser.parse(p, lang=lang, now=NOW) for p in phrases}
    monkeypatch.setattr(parser, "FAST_PATH", False)
    for phrase, got in fast.items():
        assert parser.parse(phrase, lang=lang, now=NOW) == got, phrase


def test_fast_path_only_takes_whole_messages() -> None:
    assert parser.parse("balance", now=NOW).intent == "balance"
    assert parser.parse("balance in EUR", now=NOW).currency == "EUR"
    assert parser.parse("my balance is so low lol", now=NOW).intent in ("balance", "none")
