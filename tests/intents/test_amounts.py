"""The amount grammar of each language: separators, k, 200,-, marks before and after, number words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from intents import parse_amount

from .conftest import read


def amount(text: str, lang: str) -> tuple[Decimal | None, str | None, str | None]:
    got = parse_amount(text, lang)
    assert got is not None, text
    return (None if got.clarify else got.amount), got.currency, got.clarify


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("20", "20", None),
        ("$1,000", "1000", "USD"),
        ("1.5", "1.5", None),
        ("$1,234.56", "1234.56", "USD"),
        ("1,000,000", "1000000", None),
        (".50", "0.5", None),
        ("2k", "2000", None),
        ("5K", "5000", None),
        ("1.5k", "1500", None),
        ("$20", "20", "USD"),
        ("20$", "20", "USD"),
        ("20 USD", "20", "USD"),
        ("USD 20", "20", "USD"),
        ("20usd", "20", "USD"),
        ("20 dollars", "20", "USD"),
        ("20 bucks", "20", "USD"),
        ("€20", "20", "EUR"),
        ("20€", "20", "EUR"),
        ("20 eur", "20", "EUR"),
        ("20 euros", "20", "EUR"),
        ("£20", "20", "GBP"),
        ("20 pounds", "20", "GBP"),
        ("20 kr", "20", "NOK"),
        ("20 NOK", "20", "NOK"),
        ("20 kroner", "20", "NOK"),
        ("20 sek", "20", "SEK"),
        ("DKK 20", "20", "DKK"),
        ("NOK1,234.50", "1234.5", "NOK"),
        ("twenty dollars", "20", "USD"),
        ("fifty", "50", None),
        ("a hundred bucks", "100", "USD"),
        ("two thousand five hundred", "2500", None),
        ("one dollar", "1", "USD"),
    ],
)
def test_english(text: str, value: str, currency: str | None) -> None:
    assert amount(text, "en") == (Decimal(value), currency, None)


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("1.000 kr", "1000", "NOK"),
        ("1 000", "1000", None),
        ("1\u00a0000 kr", "1000", "NOK"),
        ("1\u2009000 kr", "1000", "NOK"),
        ("1\u202f000 kr", "1000", "NOK"),
        ("1.234.567,89", "1234567.89", None),
        ("20,50 kr", "20.5", "NOK"),
        ("kr 20,50", "20.5", "NOK"),
        ("200,-", "200", None),
        ("kr 200,-", "200", "NOK"),
        ("200,- kr", "200", "NOK"),
        ("200kr", "200", "NOK"),
        ("1,5k", "1500", None),
        ("2,5k kr", "2500", "NOK"),
        ("50 pund", "50", "GBP"),
        ("tjue kroner", "20", "NOK"),
        ("tohundreogfemti kr", "250", "NOK"),
        ("to hundre og femti", "250", None),
        ("fem tusen", "5000", None),
        ("tjuefem", "25", None),
    ],
)
def test_norwegian(text: str, value: str, currency: str | None) -> None:
    assert amount(text, "nb") == (Decimal(value), currency, None)


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("20,50 €", "20.5", "EUR"),
        ("€ 20,50", "20.5", "EUR"),
        ("1 000 €", "1000", "EUR"),
        ("1.000 €", "1000", "EUR"),
        ("1\u202f234,50\u00a0€", "1234.5", "EUR"),
        ("vingt euros", "20", "EUR"),
        ("deux cents euros", "200", "EUR"),
        ("mille euros", "1000", "EUR"),
        ("vingt-cinq €", "25", "EUR"),
        ("1,5k €", "1500", "EUR"),
        ("30 livres", "30", "GBP"),
        ("200 couronnes", "200", "NOK"),
    ],
)
def test_french(text: str, value: str, currency: str | None) -> None:
    assert amount(text, "fr") == (Decimal(value), currency, None)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("1.000", "en"),  # 1.000 USD? three decimals: ask
        ("12.345", "en"),
        ("20.555 eur", "en"),
        ("2,50", "en"),  # a comma that is not a thousands group
        ("20,5", "en"),
        ("1 000", "en"),  # English does not group with spaces
        ("1,000 kr", "nb"),
        ("12,345", "nb"),
        ("20.50 kr", "nb"),  # a point that is not a thousands group
        ("1.5k", "nb"),
        ("20,555 €", "fr"),
        ("1,000.50", "fr"),
        ("200 svenske kroner", "nb"),  # not a currency the contract maps
        ("$20 EUR", "en"),  # two different marks
        ("0", "en"),
    ],
)
def test_ambiguous_amounts_ask(text: str, lang: str) -> None:
    _value, _currency, clarify = amount(text, lang)
    assert clarify == "ambiguous_amount"


def test_no_amount_is_none() -> None:
    assert parse_amount("no idea", "en") is None
    assert parse_amount("tusen takk", "nb") is None
    assert parse_amount("", "fr") is None


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("send ２０ to @anna", "20", None),  # full-width digits
        ("send ＄２０ to @anna", "20", "USD"),
        ("send 💸20$💸 to @anna", "20", "USD"),  # emoji around the amount
        ("send\u00a020\u00a0$ to @anna", "20", "USD"),
        ("send 1\u200b000 kr til @ola", "1000", "NOK"),  # a zero-width space inside
        ("send\u200f 20 \u202adollars to @anna", "20", "USD"),  # bidi marks
        ("send 20\tbucks\nto @anna", "20", "USD"),  # tabs and newlines
    ],
)
def test_unicode_is_normalised_first(text: str, value: str, currency: str | None) -> None:
    got = read(text)
    assert got.amount == Decimal(value) and got.currency == currency and got.clarify is None


def test_odd_quotes() -> None:
    assert read("cours de L’Oréal", "fr").symbol == "OR"
    assert read("price of l‘oreal", "en").symbol == "OR"
    assert read("achète 3 «L'Oréal»", "fr").symbol == "OR"
    assert read("don’t send anything", "en").intent == "none"


def test_language_rules_decide_the_reading() -> None:
    assert read("send 1.000 to @anna", "en").clarify == "ambiguous_amount"
    assert read("send 1.000 kr til @ola", "nb").amount == Decimal(1000)
    assert read("envoie 1.000 € à @anna", "fr").amount == Decimal(1000)
    assert read("send 1,000 to @anna", "en").amount == Decimal(1000)
    assert read("send 1,000 kr til @ola", "nb").clarify == "ambiguous_amount"
