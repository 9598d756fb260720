"""The conversion use cases on the ledger and the database: which currency each side holds, the quote a card
carries, executing it exactly once, balances with a total, and what a period of payments used of a limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from bot.config import Settings
from bot.directory import owner_of
from bot.fx import Quote, conversion_specs, fx_accounts, quote_receive, quote_spend, value_in
from bot.fxmodels import FxPref
from bot.limits import MOVING, Breach, breach, used_ref
from bot.models import Action, User
from bot.rates import FxError, RatesPort
from ledger import Ledger, ResultCode


@dataclass(frozen=True)
class FxOutcome:
    """What became of a conversion's chain: ok, and the first real failure's code."""

    ok: bool
    code: str


def keeps_foreign(s: Session, user_id: int) -> bool:
    """Whether the person chose to keep money in other currencies in wallets of their own."""
    pref = s.get(FxPref, user_id)
    return bool(pref and pref.keep_foreign)


def set_keep_foreign(s: Session, user_id: int, keep: bool, now: datetime) -> None:
    """Record the person's choice (in the caller's transaction)."""
    pref = s.get(FxPref, user_id)
    if pref is None:
        s.add(FxPref(user_id=user_id, keep_foreign=keep, updated_at=now))
    else:
        pref.keep_foreign = keep
        pref.updated_at = now
        s.add(pref)


def available(ledger: Ledger, user_id: int, currency: str) -> int:
    """What the person can spend from that wallet now (0 without one)."""
    acc = ledger.find_account(owner_of(user_id), currency.upper(), "wallet")
    return ledger.balance(acc.id).available if acc is not None else 0


def payee_currency(s: Session, ledger: Ledger, payee: User, sent: str) -> str:
    """The currency a payee receives `sent` in: their default currency, unless they chose to keep foreign
    wallets (then `sent`, in a wallet of its own)."""
    assert payee.id is not None
    sent = sent.upper()
    if payee.currency.upper() == sent or keeps_foreign(s, payee.id):
        return sent
    return payee.currency.upper()


def payer_currency(ledger: Ledger, payer: User, sent: str, need: int) -> str:
    """The wallet a payment of `need` minor units of `sent` is paid from: that currency when the payer holds
    enough of it (or it is their default), else their default currency (through a conversion)."""
    assert payer.id is not None
    sent = sent.upper()
    if payer.currency.upper() == sent or available(ledger, payer.id, sent) >= need:
        return sent
    return payer.currency.upper()


@dataclass(frozen=True)
class SendPlan:
    """How a payment named in one currency is paid: from which wallet, into which, how much each payee gets,
    and the conversion's quote (None when payer and payee use one currency)."""

    named: str  # the currency the person wrote
    paid_in: str  # the payer's wallet
    received_in: str  # the payees' wallets
    each: int  # minor units of `received_in` each payee gets
    quote: Quote | None  # the conversion of all payees' money, `paid_in` -> `received_in`
    worth_rate: Decimal | None = None  # when nobody holds `named`: the mid rate it was valued at


def plan_send(settings: Settings, rates: RatesPort, *, payer_cur: str, named: str, payee_cur: str, amount: int,
              payees: int, now: datetime, expires_at: datetime) -> SendPlan:
    """The plan of a payment of `amount` minor units of `named` to each of `payees` people. The payee's side is
    exact when it is the named currency; when the payer pays in the named currency, their side is exact and
    the payee's rounds down; when neither uses it, the named amount is valued at the mid rate (rounded down)
    in the payee's currency, then that is exact. FxError when it cannot be priced; nothing is moved."""
    on = now.date()
    kw: dict[str, Any] = {"on": on, "max_age_days": settings.fx_max_rate_age_days,
                          "spread_bps": settings.fx_spread_bps, "expires_at": expires_at}
    worth_rate: Decimal | None = None
    each = amount
    if payee_cur != named:
        if payer_cur == named and payees == 1:
            q = quote_spend(rates, payer_cur, payee_cur, amount, **kw)
            return SendPlan(named, payer_cur, payee_cur, q.receive, q)
        worth = quote_spend(rates, named, payee_cur, amount, on=on, max_age_days=settings.fx_max_rate_age_days,
                            spread_bps=0)
        each, worth_rate = worth.receive, worth.rate
    if payer_cur == payee_cur:
        return SendPlan(named, payer_cur, payee_cur, each, None, worth_rate)
    q = quote_receive(rates, payer_cur, payee_cur, each * payees, **kw)
    return SendPlan(named, payer_cur, payee_cur, each, q, worth_rate)


def execute(ledger: Ledger, prefix: str, q: Quote, payer_id: int, payees: list[tuple[int, int]],
            memo: str | None = None, payer_label: str | None = None) -> FxOutcome:
    """Post the conversion's one linked chain (ids derive from `prefix`, so a second run moves nothing).
    `payees`: (user id, minor units of the buy currency) whose amounts add up to the quote's `receive`."""
    payer = ledger.open_account(owner_of(payer_id), q.sell, "wallet", label=None if ledger.accounts(owner_of(payer_id)) else payer_label)
    wallets = [(ledger.open_account(owner_of(uid), q.buy, "wallet").id, amount) for uid, amount in payees]
    results = ledger.create_transfers(conversion_specs(prefix, q, fx_accounts(ledger, q, payer.id, wallets), memo=memo))
    if all(r.ok for r in results):
        return FxOutcome(True, "ok")
    real = [r for r in results if not r.ok and r.result != ResultCode.linked_event_failed]
    return FxOutcome(False, str((real[0] if real else results[0]).result.value))


def balance_total(ledger: Ledger, rates: RatesPort, user: User, on: date) -> tuple[list[tuple[str, int, int]], int | None, date | None]:
    """Each wallet (currency, posted, on hold) and the total in the person's default currency at the rates of
    `on` (None when a wallet's currency has no rate, or there is nothing else to add up)."""
    assert user.id is not None
    home = user.currency.upper()
    accounts = [a for a in ledger.accounts(owner_of(user.id)) if a.kind == "wallet"]
    bals = ledger.balances([a.id for a in accounts]) if accounts else {}
    wallets = [(a.asset, bals[a.id].posted, bals[a.id].debits_pending) for a in accounts]
    if not any(cur != home for cur, _, _ in wallets):
        return wallets, None, None
    total = 0
    as_of: date | None = None
    try:
        for cur, posted, _ in wallets:
            total += value_in(rates, posted, cur, home, on)
            if cur != home:
                from bot.rates import cross

                day = cross(rates, cur, home, on).as_of
                as_of = day if as_of is None or day < as_of else as_of
    except FxError:
        return wallets, None, None
    return wallets, total, as_of


def period_starts(now: datetime) -> tuple[datetime, datetime]:
    """The start of the UTC day and of the UTC calendar month that `now` is in."""
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day.replace(day=1)


def used_since(s: Session, user_id: int, month: datetime, day: datetime) -> tuple[dict[str, int], dict[str, int]]:
    """What the person's executed moving actions took out since `month` and since `day` (minor units per
    currency): one indexed sum over the period's rows (bot_actions: initiator, status, done_at)."""
    since_day = sa.case((col(Action.done_at) >= day, col(Action.moved_minor)), else_=0)
    rows = s.execute(
        sa.select(col(Action.moved_currency), sa.func.sum(col(Action.moved_minor)), sa.func.sum(since_day))
        .where(col(Action.initiator_id) == user_id, col(Action.status) == "executed", col(Action.done_at) >= month,
               col(Action.moved_minor).is_not(None))
        .group_by(col(Action.moved_currency))
    ).all()
    return ({str(cur): int(m or 0) for cur, m, _ in rows}, {str(cur): int(d or 0) for cur, _, d in rows})


def limit_breach(s: Session, settings: Settings, rates: RatesPort, user: User, kind: str, payload: dict[str, Any],
                 now: datetime) -> Breach | None:
    """The tier limit (per payment, day or month, in the reference currency) the action would pass, else None."""
    assert user.id is not None
    if kind not in MOVING:
        return None
    reference = settings.limits_currency.upper()
    day, month = period_starts(now)
    on = now.date()
    try:
        month_moved, day_moved = used_since(s, user.id, month, day)
        month_used = used_ref(rates, reference, month_moved, on)
        day_used = used_ref(rates, reference, day_moved, on)
        return breach(settings, rates, user.kyc_tier, kind, payload, on, day_used, month_used)
    except FxError:
        return None


def reference_major(rates: RatesPort, settings: Settings, minor: int, currency: str, on: date) -> Decimal:
    """An amount in whole units of the reference currency (for the step-up thresholds), at the mid rate."""
    from ledger import from_minor

    reference = settings.limits_currency.upper()
    try:
        return from_minor(value_in(rates, minor, currency, reference, on), reference)
    except FxError:
        return from_minor(minor, currency)

