"""Fixtures for the broker tests: a clock the test moves, and paper brokers on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.brokerage.paper import PaperBroker

WEDNESDAY_1500 = datetime(2025, 3, 5, 15, 0, tzinfo=UTC)  # NYSE open (14:30-21:00 UTC)


class Clock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta's keyword arguments."""
        self.now += timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> datetime:
        """Jump to a time."""
        self.now = now
        return now


@pytest.fixture
def clock() -> Clock:
    """A clock stopped on a Wednesday afternoon with New York open."""
    return Clock(WEDNESDAY_1500)


@pytest.fixture
def make_broker(clock: Clock) -> Callable[..., PaperBroker]:
    """Paper brokers on the test clock (seed 7 unless told otherwise)."""

    def make(**kwargs: Any) -> PaperBroker:
        kwargs.setdefault("seed", 7)
        kwargs.setdefault("clock", clock)
        return PaperBroker(**kwargs)

    return make


@pytest.fixture
def broker(make_broker: Callable[..., PaperBroker]) -> PaperBroker:
    """A fresh paper broker."""
    return make_broker()
