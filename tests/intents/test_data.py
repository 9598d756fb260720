"""The data files: every category known, every instrument findable by its names in every language."""

from __future__ import annotations

import pytest

from intents import load_directory
from intents.lexicon import common, lexicon
from intents.pipeline import build_pipeline

from .conftest import read

DIRECTORY = load_directory()


@pytest.mark.parametrize("lang", common().languages)
def test_lexicons_load_and_build(lang: str) -> None:
    lex = lexicon(lang)
    assert lex.code == lang and lex.phrases and lex.commands
    nlp = build_pipeline(lang)
    assert nlp.pipe_names == ["finbot_lexicon"]
    assert nlp.lang == "fr" if lang == "fr" else True


def test_the_directory_of_the_contract() -> None:
    symbols = {i.symbol for i in DIRECTORY}
    assert {"AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "GOOGL", "META", "SPY", "VOO", "QQQ", "EQNR", "DNB", "NHY", "MC", "OR", "AIR", "TTE"} <= symbols


@pytest.mark.parametrize("inst", DIRECTORY.all(), ids=lambda i: i.symbol)
@pytest.mark.parametrize(("template", "lang"), [("price of {}", "en"), ("kurs på {}", "nb"), ("cours de {}", "fr")])
def test_every_instrument_by_ticker_and_names(inst: object, template: str, lang: str) -> None:
    from intents import Instrument

    assert isinstance(inst, Instrument)
    assert read(template.format(inst.symbol), lang).symbol == inst.symbol
    for name in inst.names(lang):
        assert read(template.format(name), lang).symbol == inst.symbol, name
        assert read(template.format(name.upper()), lang).symbol == inst.symbol, name


def test_tickers_that_are_words_count_only_in_capitals() -> None:
    assert read("buy 2 OR", "en").symbol == "OR"
    assert read("achète 2 AIR", "fr").symbol == "AIR"
    assert read("achète 2 air", "fr").symbol is None
    assert read("buy 2 apple or tesla", "en").symbol is None


def test_a_directory_of_ones_own() -> None:
    from decimal import Decimal

    from intents import Instrument, InstrumentDirectory

    own = InstrumentDirectory([
        Instrument("KOG", "Kongsberg Gruppen", "stock", "XOSL", "XOSL", "NOK", False, Decimal("300"), {"nb": ("kongsberg",)}),
    ])
    assert read("kjøp 3 kongsberg", "nb", directory=own).symbol == "KOG"
    assert read("kjøp 3 KOG", "nb", directory=own).symbol == "KOG"
    assert read("kjøp 3 KOG", "nb").clarify == "unknown_symbol"


def test_a_grown_vocabulary_is_rebuilt_without_changing_readings(monkeypatch: pytest.MonkeyPatch) -> None:
    import intents.pipeline as pl

    before = read("send 1.000 kr til @ola for middag", "nb")
    first = pl.pipeline("nb")
    monkeypatch.setattr(pl, "VOCAB_LIMIT", 10)
    monkeypatch.setattr(pl, "_CHECK_EVERY", 1)
    second = pl.pipeline("nb")
    assert second is not first
    monkeypatch.setattr(pl, "VOCAB_LIMIT", 10**9)
    assert read("send 1.000 kr til @ola for middag", "nb") == before
