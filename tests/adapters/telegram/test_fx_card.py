"""A payment across currencies on Telegram end to end: the quote card (what the payee receives, what it costs,
the rate, the fee, until when the price holds), priced by the live HTTP rates adapter on a loopback provider."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.rates.http import HttpRates
from bot.config import Settings
from tests.adapters.telegram.harness import bot_settings, start_bot
from tests.adapters.telegram.test_with_engine import FAST_PIN, World, assert_book_holds, balances
from tests.tools.botapi_server import BotApiServer
from tests.tools.rates_server import RatesServer


@pytest.fixture
def provider() -> Iterator[RatesServer]:
    today = datetime.now(UTC).date().isoformat()  # the bot runs on the real clock: today's rates are fresh
    with RatesServer({"latest": {"base": "EUR", "date": today, "rates": {"USD": 1.25, "NOK": 11.5}}}) as rs:
        yield rs


def _engine(settings: Settings, provider: RatesServer) -> Any:
    from adapters.cli.wiring import build_broker
    from adapters.funding.sandbox import SandboxFunding
    from bot.bootstrap import build_engine
    from ledger import create_engine

    db = create_engine(settings.database_url)
    return build_engine(settings, messenger="telegram", funding=SandboxFunding(), broker=build_broker(settings, db, None),
                        db=db, rates=HttpRates(provider.url))


def test_send_in_euros_from_a_dollar_wallet_shows_the_quote_card(server: BotApiServer, sqlite_url: str,
                                                                  provider: RatesServer) -> None:
    settings = bot_settings(server, sqlite_url, **FAST_PIN)
    w = World(server, sqlite_url, settings)
    w.bot = start_bot(settings, _engine(settings, provider))
    try:
        alice, marie = server.create_user("Alice", "alice"), server.create_user("Marie", "marie", lang="fr")
        w.onboard(alice, "4826")
        w.top_up(alice, 100, "4826")
        w.say(marie, "/start")
        w.say(marie, "/currency EUR")
        w.say(alice, "send 20 € to @marie")
        card = w.last_with(alice.id, "Confirm")
        # 1 USD = 0.8 EUR: €20.00 costs $25.00, and the 0.5% fee $0.13
        for line in ("Send €20.00 to @marie", "It costs you $25.13 from your USD wallet", "Rate: 1 USD = 0.8 EUR",
                     "Fee (0.5%): $0.13", "This price holds until"):
            assert line in card.text, card.text
        w.press(alice, card, "Confirm")
        w.say(alice, "4826")
        assert balances(sqlite_url) == {"@alice": {"USD": "74.87"}, "@marie": {"EUR": "20.00"}}
        assert any("20,00" in m.text for m in server.messages(marie.id, from_bot=True))
        assert_book_holds(sqlite_url)
    finally:
        w.stop()
