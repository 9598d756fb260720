"""Conversions through the real engine (SQLite here; tests/scenarios/fx_*.jsonl play them on both databases): the quote card, its lifetime, payments across currencies, bad input
answered in the person's language with nothing moved, balances with a total, limits in one currency."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.local.world import LocalWorld
from tests.bot.conftest import make_world
from tests.bot.test_engine import balance, onboard, texts

FRIDAY_NOON = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)  # EUR 1 = USD 1.1172 = NOK 10.312


@pytest.fixture
def fxw(sqlite_url: str, tmp_path: Path) -> Iterator[LocalWorld]:
    """The engine on SQLite at the ECB's publication of 2026-10-30 (the scenarios run the same on PostgreSQL)."""
    w = make_world(sqlite_url, tmp_path / "out")
    w.set_now(FRIDAY_NOON)
    yield w
    report = w.engine.ledger.check()
    assert report.ok, report.problems
    w.db.dispose()


def _confirm(w: LocalWorld, name: str, pin: str = "4826", label: str = "Confirm") -> list[dict[str, object]]:
    shown = w.render(w.press(name, "dm", label) or [])
    return shown + w.render(w.say(name, "dm", pin))


def test_convert_card_shows_the_quote_and_moves_exactly_it(fxw: LocalWorld) -> None:
    onboard(fxw, "alice", topup="$100")
    card = fxw.render(fxw.say("alice", "dm", "convert $50 to EUR"))
    text = texts(card)
    assert card[-1]["buttons"] == [["Confirm", "Cancel"]]
    for line in ("Convert $50.00 to EUR", "You receive: €44.75", "Rate: 1 USD = 0.895095 EUR",
                 "Fee (0.5%): $0.25", "You pay in all: $50.25", "This price holds until"):
        assert line in text, text
    assert balance(fxw, "alice", "EUR") == 0
    _confirm(fxw, "alice")
    assert balance(fxw, "alice") == 10000 - 5025 and balance(fxw, "alice", "EUR") == 4475
    shown = texts(fxw.render(fxw.say("alice", "dm", "show balance")))
    assert "€44.75" in shown and "$49.75" in shown and "Total ≈ $99.74" in shown, shown


def test_the_quote_expires_with_the_card(fxw: LocalWorld) -> None:
    onboard(fxw, "alice", topup="$100")
    fxw.render(fxw.say("alice", "dm", "convert $50 to EUR"))
    fxw.render(fxw.press("alice", "dm", "Confirm") or [])
    fxw.set_now(FRIDAY_NOON + timedelta(seconds=fxw.engine.settings.confirmation_ttl_seconds + 5))
    fxw.render(fxw.say("alice", "dm", "4826"))
    assert balance(fxw, "alice") == 10000 and balance(fxw, "alice", "EUR") == 0
    again = texts(fxw.render(fxw.say("alice", "dm", "convert $50 to EUR")))
    assert "Rate: 1 USD = 0.895095 EUR" in again  # a new card, with its own price and lifetime


def test_send_in_another_currency_the_payee_gets_exactly_what_the_card_says(fxw: LocalWorld) -> None:
    onboard(fxw, "alice", topup="$100")
    onboard(fxw, "marie", pin="5182")
    fxw.render(fxw.say("marie", "dm", "/currency EUR"))
    card = texts(fxw.render(fxw.say("alice", "dm", "send 20 € to @marie")))
    assert "Send €20.00 to @marie" in card and "It costs you $22.47 from your USD wallet" in card, card
    done = _confirm(fxw, "alice")
    assert balance(fxw, "alice") == 10000 - 2247 and balance(fxw, "marie", "EUR") == 2000
    assert balance(fxw, "marie", "USD") == 0
    assert any(i["chat"] == "dm:marie" and "20.00" in str(i["text"]) for i in done), texts(done)


def test_a_payee_in_another_currency_receives_in_their_own_unless_they_keep_foreign(fxw: LocalWorld) -> None:
    onboard(fxw, "alice", topup="$100")
    onboard(fxw, "ola", pin="5182")
    fxw.render(fxw.say("ola", "dm", "/currency NOK"))
    card = texts(fxw.render(fxw.say("alice", "dm", "send $20 to @ola")))
    assert "Send 184.60 kr to @ola" in card.replace("NOK", "kr").replace("\xa0", " ") or "184.60" in card, card
    _confirm(fxw, "alice")
    assert balance(fxw, "alice") == 10000 - 2000 - 10 and balance(fxw, "ola", "NOK") == 18460
    fxw.render(fxw.say("ola", "dm", "/wallets keep"))
    fxw.render(fxw.say("alice", "dm", "send $10 to @ola"))
    _confirm(fxw, "alice")
    assert balance(fxw, "ola", "USD") == 1000 and balance(fxw, "ola", "NOK") == 18460


@pytest.mark.parametrize(("lang", "text", "words"), [
    ("en", "convert 100 USD to XYZ", "I don't know the currency"),
    ("en", "convert 100 USD to RUB", "I have no rates for RUB"),
    ("nb", "veksle 0,01 kr til euro", "minste enheten"),
    ("fr", "convertis 10 € en euros", "rien à convertir"),
])
def test_bad_input_is_answered_and_moves_nothing(fxw: LocalWorld, lang: str, text: str, words: str) -> None:
    fxw.render(fxw.say("alice", "dm", "/start", lang=lang))
    shown = fxw.render(fxw.say("alice", "dm", text))
    assert words in texts(shown), texts(shown)
    assert not any(i.get("buttons") for i in shown)


def test_a_stale_rate_is_refused_in_the_persons_language(fxw: LocalWorld) -> None:
    onboard(fxw, "alice", topup="$100")
    fxw.set_now(datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
    shown = texts(fxw.render(fxw.say("alice", "dm", "convert $50 to EUR")))
    assert "more than 4 days old" in shown and "Oct 30, 2026" in shown, shown
    assert balance(fxw, "alice") == 10000


def test_a_norwegian_top_up_of_1500_kr_is_inside_the_eur_limit(fxw: LocalWorld) -> None:
    fxw.render(fxw.say("ola", "dm", "/start", lang="nb"))
    fxw.render(fxw.say("ola", "dm", "/currency NOK"))
    onboard(fxw, "ola", pin="5182")
    shown = fxw.render(fxw.say("ola", "dm", "fyll på 1500 kr"))
    assert shown[-1]["buttons"] == [["Bekreft", "Avbryt"]], texts(shown)
    refused = texts(fxw.render(fxw.say("ola", "dm", "fyll på 10400 kr")))
    assert "10 312,00 kr" in refused.replace("\xa0", " ") and "1 000,00 €" in refused.replace("\xa0", " "), refused


def test_request_and_split_across_currencies_show_both_amounts_and_pay_exactly(fxw: LocalWorld) -> None:
    onboard(fxw, "alice", topup="$100")
    onboard(fxw, "marie", pin="5182")
    fxw.render(fxw.say("marie", "dm", "/currency EUR"))
    fxw.render(fxw.say("marie", "dm", "top up 100 EUR"))
    _confirm(fxw, "marie", pin="5182")
    fxw.render(fxw.say("alice", "dm", "request $20 from @marie"))
    asked = fxw.render(fxw.press("alice", "dm", "Confirm") or [])
    assert any(i["chat"] == "dm:marie" and "$20.00 (≈ €17.90)" in str(i["text"]) for i in asked), texts(asked)
    card = fxw.render(fxw.press("marie", "dm", "Pay") or [])
    assert "It costs you €18.00 from your EUR wallet" in texts(card), texts(card)
    fxw.render(fxw.say("marie", "dm", "5182"))
    assert balance(fxw, "alice") == 10000 + 2000 and balance(fxw, "marie", "EUR") == 10000 - 1800
    fxw.render(fxw.say("alice", "g:trip", "/split 30 @marie"))
    split = fxw.render(fxw.press("alice", "g:trip", "Confirm") or [])
    assert "@marie: $15.00 (≈ €13.42)" in texts(split), texts(split)


def test_a_lapsed_quote_moves_nothing_even_at_execution(sqlite_url: str, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from bot.fx import quote_spend
    from bot.fxpayloads import Convert
    from bot.handlers.fx import execute_convert
    from bot.rates import embedded
    from bot.reasons import reason

    w = make_world(sqlite_url, tmp_path / "out")
    q = quote_spend(embedded(), "USD", "EUR", 5000, on=FRIDAY_NOON.date(), max_age_days=4, spread_bps=50,
                    expires_at=FRIDAY_NOON + timedelta(minutes=5))
    app = SimpleNamespace(ledger=w.engine.ledger, clock=lambda: FRIDAY_NOON + timedelta(minutes=6))
    out = execute_convert(app, "local:dm:alice:1:try0", Convert(currency="EUR", from_user=1, fx=q))  # type: ignore[arg-type]
    assert (out.ok, out.code) == (False, "quote_expired")
    assert "expired with its card" in reason(out.code, "en")
    assert w.engine.ledger.lookup_transfer("local:dm:alice:1:try0:fx:0") is None
    w.db.dispose()


def test_the_terminal_chat_shows_the_quote_card(fxw: LocalWorld) -> None:
    from tests.bot.test_ux import chat_session

    text = chat_session(fxw, ["/start", "/pin", "4826", "4826", "top up $100", "/press Confirm", "4826",
                              "/as marie", "/start", "/currency EUR", "/as alice", "send 20 € to @marie",
                              "/press Confirm", "4826"])
    for line in ("Send €20.00 to @marie", "It costs you $22.47 from your USD wallet", "Rate: 1 USD = 0.895095 EUR",
                 "Fee (0.5%): $0.12", "This price holds until 10/30/26, 12:05"):
        assert line in text, text
    assert balance(fxw, "alice") == 10000 - 2247 and balance(fxw, "marie", "EUR") == 2000
