"""When unsure, ask: the clarify codes, and what a money intent without one guarantees."""

from __future__ import annotations

import pytest

from .conftest import read


@pytest.mark.parametrize(
    ("text", "lang", "intent", "clarify"),
    [
        ("send @anna", "en", "send", "missing_amount"),
        ("top up", "en", "deposit", "missing_amount"),
        ("ta ut penger", "nb", "withdraw", "missing_amount"),
        ("buy tesla", "en", "buy", "missing_amount"),
        ("achète du LVMH", "fr", "buy", "missing_amount"),
        ("send 20", "en", "send", "missing_recipient"),
        ("split $60", "en", "split", "missing_recipient"),
        ("demande 20 €", "fr", "request", "missing_recipient"),
        ("send 1.000 to @anna", "en", "send", "ambiguous_amount"),
        ("send 20 or 30 to anna", "en", "send", "ambiguous_amount"),
        ("send 20 to anna and 30 to bob", "en", "send", "ambiguous_amount"),
        ("send -20 to anna", "en", "send", "ambiguous_amount"),
        ("send 20 usd in eur to anna", "en", "send", "ambiguous_amount"),
        ("send 200 svenske kroner til @ola", "nb", "send", "ambiguous_amount"),
        ("buy tesla for 500", "en", "buy", "ambiguous_amount"),
        ("buy 2 XYZQ", "en", "buy", "unknown_symbol"),
        ("kurs på GME", "nb", "quote", "unknown_symbol"),
        ("vends 3 actions FOOBAR", "fr", "sell", "unknown_symbol"),
        ("20 @anna", "en", "none", "ambiguous_intent"),
        ("200 @ola", "nb", "none", "ambiguous_intent"),
        ("20 € @anna", "fr", "none", "ambiguous_intent"),
    ],
)
def test_clarify(text: str, lang: str, intent: str, clarify: str) -> None:
    got = read(text, lang)
    assert (got.intent, got.clarify) == (intent, clarify), got


def test_ambiguous_amount_never_asserts_an_amount() -> None:
    assert read("send 1.000 to @anna").amount is None


def test_unknown_symbol_keeps_the_quantity() -> None:
    got = read("buy 2 XYZQ")
    assert got.quantity == 2 and got.symbol is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("I sent anna 20 yesterday", "en"),
        ("lol that pizza cost $20", "en"),
        ("did you get my money?", "en"),
        ("send 2 photos to @anna", "en"),
        ("i'll send you the money tomorrow", "en"),
        ("should i buy nvidia?", "en"),
        ("jeg betalte @kari 150 kr for lunsj i går", "nb"),
        ("send 3 bilder til @kari", "nb"),
        ("skal kjøpe ny telefon neste uke", "nb"),
        ("j'ai payé 20 € à anna hier", "fr"),
        ("envoie 3 photos à @anna", "fr"),
        ("l'an dernier j'ai acheté 10 actions LVMH à 600", "fr"),
        ("don't send anything to @anna", "en"),
        ("👍", "en"),
        ("", "en"),
    ],
)
def test_talk_about_money_is_none(text: str, lang: str) -> None:
    assert read(text, lang).intent == "none"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("pay me 20 @anna", "request"),
        ("send anna a request for 20", "request"),
        ("send £40 to @olivia for the gas bill", "send"),
    ],
)
def test_who_pays_whom(text: str, intent: str) -> None:
    assert read(text).intent == intent
