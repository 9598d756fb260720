"""What the step-up policy weighs: the amount, a new payee, how many payments lately."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col, select

from bot.app import App
from bot.context import Ctx
from bot.handlers import passkey
from bot.models import Action
from bot.payloads import Payload
from bot.policy import PolicyInput


def stepup_method(app: App, c: Ctx, a: Action, payload: Payload) -> str:
    """The policy's step-up method. It weighs payee and velocity only for someone with a second
    factor ('pin' for everyone else), so the two queries run only then: the payee one reads every
    send the user ever made."""
    enrolled = bool(c.user.totp_secret)
    return app.policy.method(PolicyInput(
        kind=a.kind, amount_major=reference_amount(app, payload, c.now),
        new_payee=new_payee(c, payload) if enrolled else False, from_group=a.origin_group,
        recent_count=recent_count(app, c) if enrolled else 0, totp_enrolled=enrolled,
        passkey_enrolled=passkey.enrolled(app, c)))


def reference_amount(app: App, payload: Payload, now: datetime) -> Decimal:
    """What the action moves in LIMITS_CURRENCY at the day's mid rate: the thresholds are set in it."""
    from bot.fxservice import reference_major
    from bot.rates import embedded
    from ledger import InvalidAmount, TooPrecise, UnknownAsset, to_minor

    need = payload.funds_needed()
    cur = need[0] if need is not None else payload.currency
    try:
        minor = to_minor(payload.amount_major(), cur)
    except (TooPrecise, InvalidAmount, UnknownAsset):  # an operator's act has no currency: nothing to weigh
        return payload.amount_major()
    return reference_major(app.rates or embedded(), app.settings, minor, cur, now.date())


def new_payee(c: Ctx, payload: Payload) -> bool:
    """Whether the payload pays someone this person never sent money to before."""
    targets = payload.payees()
    if not targets:
        return False
    done = c.s.exec(select(Action).where(Action.initiator_id == c.user.id, Action.status == "executed", Action.kind == "send")).all()
    paid: set[int | None] = set()
    for a in done:
        paid |= {leg.get("to_user") for leg in json.loads(a.payload).get("legs", [])}
    return not targets <= paid


def recent_count(app: App, c: Ctx) -> int:
    """How many of this person's actions executed within the velocity window."""
    since = c.now - timedelta(seconds=app.settings.stepup_velocity_window_seconds)
    rows = c.s.exec(select(sa.func.count()).select_from(Action).where(
        Action.initiator_id == c.user.id, col(Action.created_at) >= since, Action.status == "executed")).one()
    return int(rows)
