"""App: the ports and services every handler works with, wired by parameter (`build_app`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.broker import Broker
from bot.bus import Bus
from bot.config import Settings
from bot.directory import Directory
from bot.execution import Executor
from bot.funding import FundingPort
from bot.policy import Policy
from bot.stepup import StepUp, load_pin_key
from intents.directory import InstrumentDirectory
from ledger import Ledger


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    """What the engine holds: the database, the ledger, the settings, the ports (funding, broker, rates,
    clock, messenger) and the services built from them. One per process; handlers get it as `app`."""

    db: sa.Engine
    ledger: Ledger
    settings: Settings
    funding: FundingPort
    clock: Callable[[], datetime]
    messenger: str
    broker: Broker | None
    instruments: InstrumentDirectory | None
    directory: Directory
    stepup: StepUp
    policy: Policy
    executor: Executor
    ttl: timedelta
    operators: set[str]
    bus: Bus
    rates: Any = None  # the FX port (filled by the FX helper)
    flags: set[str] = field(default_factory=set)  # once-per-process marks, e.g. "orders_reconciled"
    #: the messenger whose replies are written to the outbox (bot/outbox.py) in the transaction of the change they
    #: report, for its sender to deliver (None: replies are returned to the caller, as the local adapters want)
    outbox: str | None = None


def build_app(*, db: sa.Engine, ledger: Ledger, settings: Settings, funding: FundingPort, bus: Bus,
              clock: Callable[[], datetime] | None = None, messenger: str = "local", broker: Broker | None = None,
              instruments: InstrumentDirectory | None = None, rates: Any = None) -> App:
    """The App for these ports: the services (directory, step-up, policy, executor) built from the settings."""
    return App(
        db=db, ledger=ledger, settings=settings, funding=funding, clock=clock or _utc_now, messenger=messenger,
        broker=broker, instruments=instruments,
        directory=Directory(settings.default_language, settings.default_currency.upper()),
        stepup=StepUp(
            key=load_pin_key(settings.pin_pepper, settings.pin_key_path()),
            max_attempts=settings.pin_max_attempts,
            lockout=timedelta(seconds=settings.pin_lockout_seconds),
            time_cost=settings.pin_argon2_time_cost,
            memory_kib=settings.pin_argon2_memory_kib,
        ),
        policy=Policy(
            totp_above=settings.stepup_totp_above,
            group_totp_above=settings.stepup_group_totp_above,
            velocity_max=settings.stepup_velocity_max_count,
            new_payee_totp=settings.stepup_new_payee_totp,
            pin_fallback=settings.passkey_pin_fallback,
        ),
        executor=Executor(ledger=ledger, funding=funding, broker=broker),
        ttl=timedelta(seconds=settings.confirmation_ttl_seconds),
        operators=settings.operators(),
        bus=bus,
        rates=rates,
    )
