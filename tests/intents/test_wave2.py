"""The wave-2 intents of docs/intents.md: convert, schedules, unschedule, debts, settle, collect,
red_packet and tip, with the slots count and to_currency, in the three languages and as commands."""

from __future__ import annotations

import pytest

from intents import INTENTS, MONEY_INTENTS

from .conftest import read, slots

CASES = [
    ("convert 100 USD to EUR", "en", {"intent": "convert", "amount": "100", "currency": "USD", "to_currency": "EUR"}),
    ("veksle 1000 kr til euro", "nb", {"intent": "convert", "amount": "1000", "currency": "NOK", "to_currency": "EUR"}),
    ("change 50 € en dollars", "fr", {"intent": "convert", "amount": "50", "currency": "EUR", "to_currency": "USD"}),
    ("/convert 20 GBP EUR", "en", {"intent": "convert", "amount": "20", "currency": "GBP", "to_currency": "EUR"}),
    ("my standing orders", "en", {"intent": "schedules"}),
    ("what am I paying every month?", "en", {"intent": "schedules"}),
    ("mine faste betalinger", "nb", {"intent": "schedules"}),
    ("mes virements permanents", "fr", {"intent": "schedules"}),
    ("stop paying @mom every monday", "en", {"intent": "unschedule", "recipients": ["@mom"], "recurrence": "FREQ=WEEKLY;BYDAY=MO"}),
    ("cancel my weekly VOO buy", "en", {"intent": "unschedule", "symbol": "VOO", "recurrence": "FREQ=WEEKLY"}),
    ("stopp den faste betalingen til @ola", "nb", {"intent": "unschedule", "recipients": ["@ola"]}),
    ("arrête le virement mensuel à @lea", "fr", {"intent": "unschedule", "recipients": ["@lea"], "recurrence": "FREQ=MONTHLY"}),
    ("who owes what?", "en", {"intent": "debts"}),
    ("what do I owe @bob?", "en", {"intent": "debts", "recipients": ["@bob"]}),
    ("hvem skylder hva", "nb", {"intent": "debts"}),
    ("qui doit combien ?", "fr", {"intent": "debts"}),
    ("settle up with @bob", "en", {"intent": "settle", "recipients": ["@bob"]}),
    ("settle up", "en", {"intent": "settle"}),
    ("gjør opp med @ola", "nb", {"intent": "settle", "recipients": ["@ola"]}),
    ("on règle les comptes", "fr", {"intent": "settle"}),
    ("collect $10 from everyone for the gift", "en", {"intent": "collect", "amount": "10", "currency": "USD", "note": "the gift"}),
    ("samle inn 100 kr fra alle til blomster", "nb", {"intent": "collect", "amount": "100", "currency": "NOK", "note": "blomster"}),
    ("cagnotte de 15 € chacun pour le cadeau de @lea", "fr", {"intent": "collect", "amount": "15", "currency": "EUR"}),
    ("red packet $20 for 5 people", "en", {"intent": "red_packet", "amount": "20", "currency": "USD", "count": "5"}),
    ("drop $10 for the first 3", "en", {"intent": "red_packet", "amount": "10", "currency": "USD", "count": "3"}),
    ("rød konvolutt 200 kr til 4", "nb", {"intent": "red_packet", "amount": "200", "currency": "NOK", "count": "4"}),
    ("enveloppe rouge de 30 € pour 6", "fr", {"intent": "red_packet", "amount": "30", "currency": "EUR", "count": "6"}),
    ("/redpacket 50 for 10", "en", {"intent": "red_packet", "amount": "50", "count": "10"}),
    ("tip 2", "en", {"intent": "tip", "amount": "2", "recipients": ["reply"]}),
    ("tip @anna 1", "en", {"intent": "tip", "amount": "1", "recipients": ["@anna"]}),
    ("tips 20 kr", "nb", {"intent": "tip", "amount": "20", "currency": "NOK", "recipients": ["reply"]}),
    ("pourboire de 2 €", "fr", {"intent": "tip", "amount": "2", "currency": "EUR", "recipients": ["reply"]}),
]


@pytest.mark.parametrize(("text", "lang", "want"), CASES)
def test_wave2_intents(text: str, lang: str, want: dict[str, object]) -> None:
    got = slots(text, lang)
    assert {k: got.get(k) for k in want} == want
    assert "clarify" not in got


@pytest.mark.parametrize(
    ("text", "lang", "clarify"),
    [
        ("convert 100 usd", "en", "ambiguous_amount"),
        ("convert to euros", "en", "missing_amount"),
        ("convert 100 yen to EUR", "en", "ambiguous_amount"),
        ("collect money for the gift", "en", "missing_amount"),
        ("red packet for 5 people", "en", "missing_amount"),
        ("red packet ¥500 for 5", "en", "ambiguous_amount"),
    ],
)
def test_wave2_asks_back(text: str, lang: str, clarify: str) -> None:
    got = read(text, lang)
    assert got.clarify == clarify
    assert got.amount is None


def test_a_tip_without_a_reply_asks_who() -> None:
    got = read("tip 3", "en", reply=False)
    assert got.recipients == () and got.clarify == "missing_recipient"


@pytest.mark.parametrize(
    "command", ["/convert 5 EUR USD", "/schedules", "/unschedule @mom", "/debts", "/settle @bob", "/collect 5", "/redpacket 5 for 2", "/tip 1 @bob"]
)
def test_each_wave2_command_is_its_intent(command: str) -> None:
    name = command.split()[0][1:]
    want = "red_packet" if name == "redpacket" else name
    assert read(command, "en").intent == want


def test_the_contract_vocabulary() -> None:
    assert {"convert", "schedules", "unschedule", "debts", "settle", "collect", "red_packet", "tip"} <= set(INTENTS)
    assert {"convert", "collect", "red_packet", "tip", "settle"} <= MONEY_INTENTS
    d = read("convert 100 USD to EUR", "en").to_json_dict()
    assert d["to_currency"] == "EUR" and "count" in d


@pytest.mark.parametrize(("text", "lang"), [("anna owes me 20", "en"), ("jeg skylder per 100 kr", "nb"), ("paul me doit 30 €", "fr")])
def test_talk_about_debts_is_still_none(text: str, lang: str) -> None:
    assert read(text, lang).intent == "none"
