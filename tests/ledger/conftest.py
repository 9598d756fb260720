"""Ledger fixtures: a migrated ledger on each database with a clock the test moves by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger import Account, AccountFlag, Ledger, TransferFlag, TransferResult, TransferSpec, migrate

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """A clock that only moves when told to."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(db_url: str, clock: FakeClock) -> Iterator[Ledger]:
    """A freshly migrated ledger on SQLite and on PostgreSQL."""
    migrate(db_url)
    led = Ledger(db_url, clock=clock)
    yield led
    led.close()


@dataclass
class Book:
    """Helpers to set up money quickly in a test."""

    ledger: Ledger
    n: int = 0
    funding: dict[str, Account] = field(default_factory=dict)

    def wallet(self, owner: str, asset: str = "USD", funds: int = 0, **kw: Any) -> Account:
        acct = self.ledger.open_account(owner, asset, **kw)
        if funds:
            self.fund(acct, funds)
        return acct

    def fund(self, acct: Account, amount: int) -> TransferResult:
        src = self.funding.get(acct.asset) or self.ledger.system_account("sandbox_funding", acct.asset)
        self.funding[acct.asset] = src
        self.n += 1
        r = self.ledger.create_transfer(TransferSpec(f"fund-{self.n}", src.id, acct.id, amount))
        assert r.ok, r
        return r

    def pay(self, tid: str, a: Account, b: Account, amount: int, flags: TransferFlag = TransferFlag.NONE, **kw: Any) -> TransferResult:
        return self.ledger.create_transfer(TransferSpec(tid, a.id, b.id, amount, flags, **kw))


@pytest.fixture
def book(ledger: Ledger) -> Book:
    return Book(ledger)


__all__ = ["START", "FakeClock", "Book", "AccountFlag"]
