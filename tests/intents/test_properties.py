"""Property tests: any text gives a valid Intent quickly; babel-formatted amounts read back exactly."""

from __future__ import annotations

import re
import time
from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intents import CLARIFY_CODES, INTENTS, Intent, load_directory, parse, parse_amount
from intents.amounts import currency_decimals
from intents.model import KEYS, LANGUAGES

from .conftest import NOW

DIRECTORY = load_directory()
HANDLE = re.compile(r"@[a-z][a-z0-9_]{0,31}")
CODES = {"USD", "EUR", "GBP", "NOK", "SEK", "DKK", "CHF", "JPY", "CAD", "AUD", "PLN"}
SLOW_CALL = 2.0  # seconds; a call takes well under 10 ms, this only catches a runaway


def check(intent: Intent) -> None:
    """The contract's object is well formed, and a money intent without clarify is complete."""
    d = intent.to_json_dict()
    assert list(d) == list(KEYS)
    assert d["intent"] in INTENTS and d["lang"] in LANGUAGES
    assert d["clarify"] is None or d["clarify"] in CLARIFY_CODES
    assert d["currency"] is None or d["currency"] in CODES
    for key in ("amount", "quantity", "notional", "fraction", "limit_price"):
        value = d[key]
        assert value is None or (isinstance(value, str) and Decimal(value) == Decimal(value))
    for who in intent.recipients:
        assert who == "reply" or HANDLE.fullmatch(who) or (who == who.lower() and not who.startswith("@"))
    assert intent.symbol is None or intent.symbol in DIRECTORY
    if intent.clarify is not None or not intent.is_money:
        return
    if intent.intent in ("send", "request", "split", "deposit", "withdraw"):
        assert intent.amount is not None and intent.amount > 0
        exponent = intent.amount.normalize().as_tuple().exponent
        assert isinstance(exponent, int) and -exponent <= currency_decimals(intent.currency)
    if intent.intent in ("send", "request", "split"):
        assert intent.recipients
    if intent.intent in ("buy", "sell"):
        assert intent.symbol is not None
        given_amounts = [x for x in (intent.quantity, intent.notional, intent.fraction) if x is not None]
        assert len(given_amounts) == 1
        assert intent.fraction is None or 0 < intent.fraction <= 1


def timed_parse(text: str, **kw: object) -> Intent:
    start = time.perf_counter()
    intent = parse(text, now=NOW, **kw)  # type: ignore[arg-type]
    assert time.perf_counter() - start < SLOW_CALL
    return intent


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300), st.sampled_from([None, *LANGUAGES]))
def test_any_text_gives_a_valid_intent(text: str, lang: str | None) -> None:
    check(timed_parse(text, lang=lang))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.text(min_size=1, max_size=60), st.sampled_from([None, *LANGUAGES]))
def test_ten_kilobytes_in_bounded_time(seed: str, lang: str | None) -> None:
    text = (seed * (10_000 // len(seed) + 1))[:10_000]
    check(timed_parse(text, lang=lang))


CHUNKS = [
    "send", "pay", "request", "ask", "split", "buy", "sell", "top up", "withdraw", "price of", "balance",
    "betal", "kjøp", "selg", "envoie", "demande", "achète", "vends", "partage", "vipps", "be", "om",
    "20", "1.000", "1,000", "20,50", "200,-", "2k", "1,5k", "$", "€", "kr", "usd", "eur", "dollars", "twenty",
    "tjue", "vingt", "@anna", "@bob_99", "@x", "anna", "ola", "him", "lui", "ham", "me", "moi",
    "to", "til", "à", "with", "med", "avec", "for", "pour", "and", "og", "et", ",", "?", "!",
    "tomorrow", "i morgen", "demain", "every", "monday", "hver", "fredag", "tous les", "lundis",
    "the 1st", "of every month", "AAPL", "tesla", "equinor", "LVMH", "XYZQ", "half", "all", "shares",
    "aksjer", "actions", "at", "180", "50%", "not", "don't", "yesterday", "i", "jeg", "j'ai", "lol", "2",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(CHUNKS), min_size=1, max_size=12), st.sampled_from([None, *LANGUAGES]))
def test_money_intents_without_clarify_are_complete(chunks: list[str], lang: str | None) -> None:
    text = " ".join(chunks)
    first = timed_parse(text, lang=lang)
    check(first)
    assert timed_parse(text, lang=lang) == first  # deterministic


AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2, allow_nan=False, allow_infinity=False)
LOCALES = {"en_US": "en", "nb_NO": "nb", "fr_FR": "fr"}


@settings(max_examples=150, deadline=None)
@given(AMOUNTS, st.sampled_from(sorted(LOCALES)))
def test_babel_decimals_read_back(value: Decimal, locale: str) -> None:
    text = format_decimal(value, locale=locale)
    got = parse_amount(text, LOCALES[locale])
    if -value.normalize().as_tuple().exponent > 2:  # pragma: no cover - places=2
        return
    assert got is not None, text
    assert got.clarify is None and got.amount == value, (text, got)


@settings(max_examples=150, deadline=None)
@given(AMOUNTS, st.sampled_from(sorted(LOCALES)), st.sampled_from(["USD", "EUR", "NOK", "GBP", "SEK", "DKK"]))
def test_babel_currencies_read_back(value: Decimal, locale: str, currency: str) -> None:
    text = format_currency(value, currency, locale=locale)
    got = parse_amount(text, LOCALES[locale])
    assert got is not None, text
    assert (got.amount, got.currency, got.clarify) == (value, currency, None), text
