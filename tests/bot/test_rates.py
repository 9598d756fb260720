"""The rates port: the ECB table shipped offline, the latest day on or before the one asked, cross rates
through EUR, staleness, and the live HTTP adapter against a loopback server this test starts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from adapters.rates.http import HttpRates, rates_from_settings
from bot.config import load_settings
from bot.rates import (
    EcbEmbeddedRates,
    NoRate,
    RatesUnavailable,
    StaleRate,
    UnknownCurrency,
    cross,
    embedded,
    fresh,
    round_rate,
)
from tests.tools.rates_server import RatesServer

# 2026-10-30 (a Friday) as the ECB published it: USD 1.1172, NOK 10.312, JPY 175.68, GBP 0.8338
FRIDAY = date(2026, 10, 30)


def test_embedded_table_is_the_ecbs_and_works_offline() -> None:
    e = embedded()
    assert e.first_day == date(1999, 1, 4)
    assert e.last_day >= FRIDAY
    assert {"EUR", "USD", "NOK", "SEK", "DKK", "GBP", "JPY", "CHF"} <= e.currencies()
    day = e.euro_rates(FRIDAY)
    assert day.day == FRIDAY
    assert day.per_eur["USD"] == Decimal("1.1172") and day.per_eur["NOK"] == Decimal("10.312")
    assert all(isinstance(v, Decimal) for v in day.per_eur.values())


def test_weekend_takes_the_latest_day_before() -> None:
    e = embedded()
    sunday = date(2026, 11, 1)
    assert e.euro_rates(sunday).day == FRIDAY
    r = cross(e, "EUR", "USD", sunday)
    assert r.value == Decimal("1.1172") and r.as_of == FRIDAY and r.age_days(sunday) == 2


def test_cross_rates_go_through_eur_rounded_to_six_digits() -> None:
    e = embedded()
    usd_nok = cross(e, "USD", "NOK", FRIDAY)
    assert usd_nok.value == round_rate(Decimal("10.312") / Decimal("1.1172")) == Decimal("9.23022")
    assert cross(e, "NOK", "EUR", FRIDAY).value == Decimal("0.0969744")
    assert cross(e, "usd", "usd", FRIDAY).value == 1


def test_unknown_and_dropped_currencies() -> None:
    e = embedded()
    with pytest.raises(UnknownCurrency):
        cross(e, "USD", "XYZ", FRIDAY)
    with pytest.raises(UnknownCurrency):  # the ECB stopped quoting the ruble; the newest table has none
        cross(e, "RUB", "EUR", FRIDAY)
    with pytest.raises(NoRate):
        cross(e, "USD", "EUR", date(1998, 12, 31))


def test_stale_after_the_allowed_age() -> None:
    e = embedded()
    r = cross(e, "USD", "EUR", date(2026, 11, 3))  # Tuesday: Friday's rate is 4 days old: still good
    assert fresh(r, date(2026, 11, 3), 4) is r
    old = cross(e, "USD", "EUR", date(2026, 11, 4))
    with pytest.raises(StaleRate) as err:
        fresh(old, date(2026, 11, 4), 4)
    assert err.value.as_of == FRIDAY


def test_a_plain_csv_table_in_the_ecb_format() -> None:
    data = b"Date,USD,NOK,\n2026-01-02,1.0500,N/A,\n2026-01-05,1.0600,11.50,\n"
    e = EcbEmbeddedRates(data)
    assert e.euro_rates(date(2026, 1, 3)).per_eur == {"EUR": 1, "USD": Decimal("1.0500")}
    with pytest.raises(NoRate):
        cross(e, "USD", "NOK", date(2026, 1, 3))  # NOK was not published that day
    assert cross(e, "USD", "NOK", date(2026, 1, 5)).value == Decimal("10.8491")


@pytest.fixture
def provider() -> Iterator[RatesServer]:
    # the frankfurter shape; a rate with more digits than a float carries survives as Decimal
    answers: dict[str, Any] = {
        "2026-11-01": b'{"amount":1.0,"base":"EUR","date":"2026-10-30","rates":{"USD":1.11720000000000000001,"NOK":10.312}}',
        "latest": {"base": "EUR", "date": "2026-11-18", "rates": {"USD": 1.09, "NOK": 11.2}},
        "2026-11-02": b"not json",
        "2026-11-03": {"base": "USD", "date": "2026-11-03", "rates": {"EUR": 0.9}},
    }
    with RatesServer(answers) as server:
        yield server


def test_http_provider_over_loopback(provider: RatesServer) -> None:
    live = HttpRates(provider.url, cache_seconds=300, today=lambda: date(2026, 11, 18))
    day = live.euro_rates(date(2026, 11, 1))
    assert day.day == FRIDAY and day.per_eur["USD"] == Decimal("1.11720000000000000001")
    assert cross(live, "EUR", "NOK", date(2026, 11, 1)).value == Decimal("10.312")
    assert live.requests == 2  # the day asked for, and today's list of currencies
    assert provider.seen[-1].startswith("/latest?base=EUR")
    cross(live, "EUR", "USD", date(2026, 11, 1))
    today = live.euro_rates(date(2026, 11, 18))
    assert today.day == date(2026, 11, 18) and live.requests == 2  # both from the cache now
    assert live.currencies() == {"EUR", "USD", "NOK"}
    with pytest.raises(NoRate):
        live.euro_rates(date(2026, 1, 1))  # the provider answers 404
    with pytest.raises(RatesUnavailable):
        live.euro_rates(date(2026, 11, 2))
    with pytest.raises(RatesUnavailable):
        live.euro_rates(date(2026, 11, 3))  # rates against USD, not EUR


def test_http_provider_down_is_a_clear_error() -> None:
    live = HttpRates("http://127.0.0.1:9", timeout_seconds=0.5, today=lambda: date(2026, 11, 18))
    with pytest.raises(RatesUnavailable):
        live.euro_rates(date(2026, 11, 18))


def test_settings_choose_the_adapter(provider: RatesServer) -> None:
    assert isinstance(rates_from_settings(load_settings()), EcbEmbeddedRates)
    live = rates_from_settings(load_settings(fx_provider="http", fx_http_url=provider.url))
    assert isinstance(live, HttpRates) and live.base_url == provider.url
    with pytest.raises(ValueError):
        rates_from_settings(load_settings(fx_provider="http", fx_http_url=""))
    with pytest.raises(ValueError):
        rates_from_settings(load_settings(fx_provider="oanda"))
