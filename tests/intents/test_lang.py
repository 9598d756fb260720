"""Language detection among en, nb and fr: the text decides, the client's language breaks ties."""

from __future__ import annotations

import pytest

from intents import parse

from .conftest import NOW, read


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("send $20 to @anna for pizza", "en"),
        ("what's my balance", "en"),
        ("buy 2 shares of AAPL", "en"),
        ("send 200 kr til @ola", "nb"),
        ("hva er saldoen min", "nb"),
        ("kjøp 5 Equinor", "nb"),
        ("selg halvparten av NVDA", "nb"),
        ("envoie 20 € à @anna", "fr"),
        ("quel est mon solde", "fr"),
        ("achète 10 actions LVMH", "fr"),
        ("j'ai payé 20 € à anna hier", "fr"),
        ("I sent anna 20 yesterday", "en"),
    ],
)
def test_detection(text: str, lang: str) -> None:
    assert read(text).lang == lang


@pytest.mark.parametrize("hint", ["en", "nb", "fr"])
def test_hint_breaks_a_tie(hint: str) -> None:
    assert parse("20 @anna", now=NOW, hint_lang=hint).lang == hint
    assert parse("AAPL", now=NOW, hint_lang=hint).lang == hint


def test_text_beats_the_hint() -> None:
    assert parse("envoie 20 € à @anna pour le resto", now=NOW, hint_lang="en").lang == "fr"
    assert parse("send 200 kroner til kari i morgen", now=NOW, hint_lang="fr").lang == "nb"
    assert parse("send twenty dollars to anna please", now=NOW, hint_lang="nb").lang == "en"


def test_hint_may_be_a_locale_or_unknown() -> None:
    assert parse("20 @anna", now=NOW, hint_lang="nb-NO").lang == "nb"
    assert parse("20 @anna", now=NOW, hint_lang="no").lang == "nb"
    assert parse("20 @anna", now=NOW, hint_lang="de").lang in ("en", "nb", "fr")


def test_forced_language() -> None:
    got = parse("send 1.000 kr til @ola", lang="nb", now=NOW)
    assert got.lang == "nb" and got.amount == 1000
    with pytest.raises(ValueError):
        parse("hallo", lang="de", now=NOW)


def test_slash_command_names_hint_their_language() -> None:
    assert read("/saldo").lang == "nb"
    assert read("/solde").lang == "fr"
    assert read("/balance").intent == "balance"
