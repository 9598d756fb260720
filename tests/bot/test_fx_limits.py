"""Limits in one reference currency (EUR by default) applied to any currency through the rate: per payment,
per day and per month; and the payment plans across currencies."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from bot.config import load_settings
from bot.db import migrate_all
from bot.fxservice import limit_breach, period_starts, plan_send, reference_major
from bot.limits import breach, tier_limits
from bot.models import Action, User
from bot.rates import StaleRate, embedded
from ledger import create_engine

FRIDAY = date(2026, 10, 30)  # EUR 1 = NOK 10.312 = USD 1.1172
NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
RATES = embedded()
S = load_settings()


def _send(minor: int, cur: str) -> dict[str, object]:
    return {"kind": "send", "currency": cur, "legs": [{"amount": minor}]}


def test_a_norwegian_top_up_of_1500_kr_is_within_a_1000_eur_limit() -> None:
    assert S.limits_currency == "EUR" and tier_limits(S, 0)["payment"] == Decimal("1000")
    assert breach(S, RATES, 0, "deposit", {"currency": "NOK", "amount": 150000}, FRIDAY) is None


def test_the_limit_at_its_reference_value_in_nok_and_eur() -> None:
    # 1,000 EUR is 10,312.00 kr at the day's rate: that much passes, 10,312.11 kr does not
    assert breach(S, RATES, 0, "send", _send(1031200, "NOK"), FRIDAY) is None
    b = breach(S, RATES, 0, "send", _send(1031211, "NOK"), FRIDAY)
    assert b is not None and b.period == "payment" and b.limit_ref == 100000 and b.reference == "EUR"
    assert b.limit_minor == 1031200 and b.currency == "NOK"
    assert breach(S, RATES, 0, "send", _send(100000, "EUR"), FRIDAY) is None
    assert breach(S, RATES, 0, "send", _send(100001, "EUR"), FRIDAY) is not None
    assert breach(S, RATES, 2, "send", _send(10**12, "EUR"), FRIDAY) is None  # tier 2: no limit


def test_day_and_month_limits_count_what_was_used() -> None:
    b = breach(S, RATES, 0, "send", _send(50000, "EUR"), FRIDAY, used_day_ref=150001, used_month_ref=150001)
    assert b is not None and b.period == "day" and b.used_minor == 150001
    b = breach(S, RATES, 0, "send", _send(50000, "EUR"), FRIDAY, used_day_ref=0, used_month_ref=450001)
    assert b is not None and b.period == "month"


def test_a_conversion_counts_what_leaves_the_wallet() -> None:
    payload = {"kind": "convert", "currency": "EUR", "fx": {"sell": "USD", "cost": 111720, "fee": 559}}
    b = breach(S, RATES, 0, "convert", payload, FRIDAY)  # $1,122.79 is 1,005.00 EUR
    assert b is not None and b.currency == "USD" and b.limit_minor == 111720


def test_period_starts_are_utc_day_and_month() -> None:
    day, month = period_starts(datetime(2026, 10, 30, 23, 59, tzinfo=UTC))
    assert day == datetime(2026, 10, 30, tzinfo=UTC) and month == datetime(2026, 10, 1, tzinfo=UTC)


def test_limit_breach_reads_executed_actions_of_the_day_and_month(db_url: str) -> None:
    db = create_engine(db_url)
    migrate_all(db)
    with Session(db) as s:
        u = User(handle="ola", currency="NOK", kyc_tier=0, created_at=NOW)
        s.add(u)
        s.flush()
        assert u.id is not None

        def done(i: int, minor: int, at: datetime, status: str = "executed") -> None:
            body = json.dumps({"kind": "deposit", "currency": "NOK", "amount": minor})
            s.add(Action(id=f"a{i}", kind="deposit", initiator_id=u.id or 0, messenger="t", origin_chat_id="c",
                         payload=body, digest="x", status=status, created_at=at, expires_at=at, done_at=at))

        done(1, 1000000, NOW - timedelta(hours=1))  # 10,000 kr today (969.74 EUR), twice
        done(5, 1000000, NOW - timedelta(hours=3))
        done(2, 1000000, NOW - timedelta(days=2))  # and earlier this month
        done(3, 1000000, NOW - timedelta(days=40))  # last month: not counted
        done(4, 9000000, NOW - timedelta(hours=2), status="failed")  # failed: not counted
        s.flush()
        assert limit_breach(s, S, RATES, u, "deposit", {"kind": "deposit", "currency": "NOK", "amount": 50000}, NOW) is None
        b = limit_breach(s, S, RATES, u, "deposit", {"kind": "deposit", "currency": "NOK", "amount": 100000}, NOW)
        assert b is not None and b.period == "day" and b.used_minor == 1999991  # 1,939.48 EUR back in kr, rounded down
        assert limit_breach(s, S, RATES, u, "request", {"kind": "request", "currency": "NOK", "legs": []}, NOW) is None
    db.dispose()


def test_step_up_thresholds_read_in_the_reference_currency() -> None:
    assert reference_major(RATES, S, 1031200, "NOK", FRIDAY) == Decimal("1000.00")
    assert reference_major(RATES, S, 50000, "EUR", FRIDAY) == Decimal("500.00")


def test_send_plans_across_currencies() -> None:
    exp = NOW + timedelta(minutes=5)
    kw = {"now": NOW, "expires_at": exp}
    # a USD payer sends 20 EUR to a EUR payee: the payee's side is exact
    p = plan_send(S, RATES, payer_cur="USD", named="EUR", payee_cur="EUR", amount=2000, payees=1, **kw)
    assert p.quote is not None and p.each == 2000 and (p.quote.cost, p.quote.fee) == (2235, 12)
    assert p.quote.expires_at == exp
    # a USD payer sends $20 to a NOK payee: the payer's side is exact
    p = plan_send(S, RATES, payer_cur="USD", named="USD", payee_cur="NOK", amount=2000, payees=1, **kw)
    assert p.quote is not None and p.quote.cost == 2000 and p.each == p.quote.receive == 18460
    # a USD payer sends 20 EUR to two NOK payees: each gets 20 EUR's worth, 206.24 kr
    p = plan_send(S, RATES, payer_cur="USD", named="EUR", payee_cur="NOK", amount=2000, payees=2, **kw)
    assert p.each == 20624 and p.quote is not None and p.quote.receive == 41248
    # both in USD, 20 EUR named: a plain USD payment of its worth, no conversion and no fee
    p = plan_send(S, RATES, payer_cur="USD", named="EUR", payee_cur="USD", amount=2000, payees=1, **kw)
    assert p.quote is None and p.each == 2234 and p.worth_rate == Decimal("1.1172")
    with pytest.raises(StaleRate):
        plan_send(S, RATES, payer_cur="USD", named="EUR", payee_cur="EUR", amount=2000, payees=1,
                  now=NOW + timedelta(days=5), expires_at=exp)


def test_step_up_weighs_the_amount_in_the_reference_currency() -> None:
    from types import SimpleNamespace

    from bot.handlers.risk import reference_amount
    from bot.payloads import Leg, Send
    from bot.policy import Policy, PolicyInput

    app = SimpleNamespace(rates=RATES, settings=S)
    leg = Leg(to_user=2, handle="bob", label="@bob", escrow=False, amount=400000)
    four_thousand_kr = Send(currency="NOK", legs=(leg,), note=None, from_user=1)
    ref = reference_amount(app, four_thousand_kr, NOW)  # type: ignore[arg-type]
    assert ref == Decimal("387.89")
    policy = Policy(totp_above=Decimal("500"))
    ask = PolicyInput(kind="send", amount_major=ref, new_payee=False, from_group=False, recent_count=0, totp_enrolled=True)
    assert policy.method(ask) == "pin"  # 4,000 kr is 387.89 EUR: under the 500 threshold, no second factor
