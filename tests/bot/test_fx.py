"""Conversion quotes and their ledger chain: the stated rounding (payee exact, payer rounds up), the fee, the
linked batch through liquidity accounts on SQLite and PostgreSQL, and per-currency conservation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.fx import (
    FX_CODE,
    Quote,
    RoundsToZero,
    SameCurrency,
    conversion_specs,
    cost_for,
    fee_for,
    fx_accounts,
    parse_memo,
    quote_receive,
    quote_spend,
    receive_for,
    value_in,
)
from bot.rates import FixedRates, StaleRate, UnknownCurrency, embedded
from ledger import Ledger, ResultCode, TransferSpec, migrate

FRIDAY = date(2026, 10, 30)
RATES = embedded()


def test_send_20_eur_from_usd_the_card_numbers() -> None:
    q = quote_receive(RATES, "USD", "EUR", 2000, on=FRIDAY, max_age_days=4, spread_bps=50)
    assert q.rate == Decimal("0.895095")  # 1 / 1.1172, six digits
    assert q.receive == 2000
    assert q.cost == 2235  # 20 / 0.895095 = 22.3440... -> up to $22.35
    assert q.fee == 12  # 0.5% of 22.35 = 0.11175 -> up to $0.12
    assert q.total == 2247
    assert receive_for(q.cost, "USD", "EUR", q.rate) >= 2000 > receive_for(q.cost - 1, "USD", "EUR", q.rate)


def test_convert_50_usd_fee_on_top() -> None:
    q = quote_spend(RATES, "USD", "EUR", 5000, on=FRIDAY, max_age_days=4, spread_bps=50)
    assert (q.cost, q.fee, q.receive) == (5000, 25, 4475)  # 50 * 0.895095 = 44.75475 -> down to 44.75 €


def test_zero_decimal_and_three_decimal_currencies() -> None:
    yen = quote_spend(RATES, "EUR", "JPY", 1, on=FRIDAY, max_age_days=4, spread_bps=50)
    assert yen.receive == 1 and yen.fee == 1  # one cent buys 1.7568 yen -> 1 yen; the fee rounds up to a cent
    with pytest.raises(RoundsToZero):
        quote_spend(RATES, "JPY", "EUR", 1, on=FRIDAY, max_age_days=4, spread_bps=50)  # 1 yen is half a cent
    assert cost_for(1, "JPY", "EUR", Decimal("0.00569")) == 2
    rates = FixedRates({FRIDAY: {"KWD": Decimal("0.3"), "USD": Decimal("1.2")}})
    q = quote_receive(rates, "USD", "KWD", 1000, on=FRIDAY, max_age_days=4, spread_bps=0)
    assert q.rate == Decimal("0.25") and q.cost == 400 and q.fee == 0  # 1.000 KWD = $4.00


def test_bad_input_raises_named_errors() -> None:
    with pytest.raises(SameCurrency):
        quote_spend(RATES, "EUR", "EUR", 100, on=FRIDAY, max_age_days=4, spread_bps=50)
    with pytest.raises(UnknownCurrency):
        quote_spend(RATES, "EUR", "XAU", 100, on=FRIDAY, max_age_days=4, spread_bps=50)
    with pytest.raises(StaleRate):
        quote_spend(RATES, "EUR", "USD", 100, on=date(2026, 11, 18), max_age_days=4, spread_bps=50)
    with pytest.raises(RoundsToZero):
        quote_receive(RATES, "EUR", "USD", 0, on=FRIDAY, max_age_days=4, spread_bps=50)


def test_quote_survives_the_payload_round_trip() -> None:
    q = quote_receive(RATES, "NOK", "EUR", 12345, on=FRIDAY, max_age_days=4, spread_bps=50)
    assert Quote.from_payload(q.to_payload()) == q
    assert value_in(RATES, 100000, "NOK", "EUR", FRIDAY) == 9697  # 1,000 kr = 96.97 € (down)


CODES = ["USD", "EUR", "NOK", "JPY", "GBP", "SEK", "ISK", "KRW", "CHF"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CODES), st.sampled_from(CODES), st.integers(1, 10**11), st.integers(0, 500))
def test_payee_gets_exactly_and_payer_rounds_up_by_less_than_a_unit(sell: str, buy: str, receive: int, bps: int) -> None:
    if sell == buy:
        return
    q = quote_receive(RATES, sell, buy, receive, on=FRIDAY, max_age_days=4, spread_bps=bps)
    assert q.receive == receive
    # the cost buys at least what the payee gets, and one minor unit less would not
    assert receive_for(q.cost, sell, buy, q.rate) >= receive
    assert q.cost == 1 or receive_for(q.cost - 1, sell, buy, q.rate) < receive
    assert q.fee == fee_for(q.cost, bps) and q.fee * 10000 >= q.cost * bps > (q.fee - 1) * 10000


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CODES), st.sampled_from(CODES), st.integers(1, 10**11))
def test_spending_exactly_gives_the_most_the_cost_buys(sell: str, buy: str, cost: int) -> None:
    if sell == buy:
        return
    try:
        q = quote_spend(RATES, sell, buy, cost, on=FRIDAY, max_age_days=4, spread_bps=50)
    except RoundsToZero:
        assert receive_for(cost, sell, buy, embedded_rate(sell, buy)) == 0
        return
    assert q.cost == cost
    assert cost_for(q.receive, sell, buy, q.rate) <= cost < cost_for(q.receive + 1, sell, buy, q.rate)


def embedded_rate(sell: str, buy: str) -> Decimal:
    from bot.rates import cross

    return cross(RATES, sell, buy, FRIDAY).value


def _book(db_url: str) -> Ledger:
    migrate(db_url)
    return Ledger(db_url)


def test_conversion_is_one_linked_chain_through_liquidity(db_url: str) -> None:
    ledger = _book(db_url)
    alice = ledger.open_account("user:1", "USD", label="@alice")
    marie = ledger.open_account("user:2", "EUR", label="@marie")
    bob = ledger.open_account("user:3", "EUR", label="@bob")
    fund = ledger.system_account("sandbox_funding", "USD")
    assert ledger.create_transfer(TransferSpec(id="dep", debit_account_id=fund.id, credit_account_id=alice.id, amount=5000)).ok
    q = quote_receive(RATES, "USD", "EUR", 2000, on=FRIDAY, max_age_days=4, spread_bps=50)
    acc = fx_accounts(ledger, q, alice.id, [(marie.id, 1500), (bob.id, 500)])
    specs = conversion_specs("tg:act:1", q, acc, memo="for pizza")
    assert [s.id for s in specs] == ["tg:act:1:fx:0", "tg:act:1:fx:1", "tg:act:1:fx:2", "tg:act:1:fx:3"]
    results = ledger.create_transfers(specs)
    assert all(r.ok for r in results)
    assert ledger.balance(alice.id).posted == 5000 - q.total
    assert ledger.balance(marie.id).posted == 1500 and ledger.balance(bob.id).posted == 500
    liq_usd, liq_eur = ledger.system_account("fx_liquidity", "USD"), ledger.system_account("fx_liquidity", "EUR")
    assert ledger.balance(liq_usd.id).posted == q.cost and ledger.balance(liq_eur.id).posted == -2000
    assert ledger.balance(ledger.system_account("fees", "USD").id).posted == q.fee
    line = ledger.statement(alice.id)[1]
    assert line.code == FX_CODE and parse_memo(line.memo) == ("USD", "EUR", q.rate)
    # the same action again moves nothing
    again = ledger.create_transfers(conversion_specs("tg:act:1", q, acc, memo="for pizza"))
    assert [r.result for r in again] == [ResultCode.exists] * 4
    assert ledger.balance(alice.id).posted == 5000 - q.total
    report = ledger.check()
    assert report.ok, report.problems
    ledger.close()


def test_short_payer_moves_nothing_in_either_currency(db_url: str) -> None:
    ledger = _book(db_url)
    alice = ledger.open_account("user:1", "USD")
    marie = ledger.open_account("user:2", "EUR")
    fund = ledger.system_account("sandbox_funding", "USD")
    q = quote_receive(RATES, "USD", "EUR", 2000, on=FRIDAY, max_age_days=4, spread_bps=50)
    # enough for the cost but not the fee: the fee leg fails, so the whole chain does
    assert ledger.create_transfer(TransferSpec(id="dep", debit_account_id=fund.id, credit_account_id=alice.id, amount=q.cost)).ok
    results = ledger.create_transfers(conversion_specs("a:2", q, fx_accounts(ledger, q, alice.id, [(marie.id, 2000)])))
    assert not any(r.ok for r in results)
    assert ResultCode.exceeds_credits in {r.result for r in results}
    assert ledger.balance(alice.id).posted == q.cost and ledger.balance(marie.id).posted == 0
    assert ledger.balance(ledger.system_account("fx_liquidity", "EUR").id).posted == 0
    assert ledger.check().ok
    ledger.close()


def test_payees_must_add_up_to_the_quote(sqlite_url: str) -> None:
    ledger = _book(sqlite_url)
    q = quote_receive(RATES, "USD", "EUR", 2000, on=FRIDAY, max_age_days=4, spread_bps=50)
    with pytest.raises(ValueError):
        fx_accounts(ledger, q, 1, [(2, 1999)])
    ledger.close()
