"""Flood control: buckets pace sends per chat, per group and overall; 429 answers pause and retry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.error import RetryAfter

from adapters.telegram.flood import Bucket, FloodLimiter, FloodLimits


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_paces() -> None:
    clock = Clock()
    b = Bucket(rate_per_second=1.0, burst=3, clock=clock)
    assert [b.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.reserve() == pytest.approx(1.0)
    assert b.reserve() == pytest.approx(2.0)
    clock.now += 10
    assert b.reserve() == 0.0 and not b.idle()
    clock.now += 10
    assert b.idle()


def test_private_chats_groups_and_the_whole_bot_have_their_own_limits() -> None:
    clock = Clock()
    lim = FloodLimiter(FloodLimits(global_per_second=30, global_burst=30, chat_per_second=1,
                                   chat_burst=1, group_per_minute=20, group_burst=20), clock=clock)
    assert lim.delay_for("sendMessage", 42) == 0.0
    assert lim.delay_for("sendMessage", 42) == pytest.approx(1.0)       # one a second per chat
    assert lim.delay_for("sendMessage", 43) == 0.0                      # another chat is free
    waits = [lim.delay_for("sendMessage", -100) for _ in range(21)]
    assert waits[:20] == [0.0] * 20 and waits[20] == pytest.approx(3.0)  # 20 a minute per group
    assert lim.delay_for("answerCallbackQuery", None) == 0.0
    assert lim.delay_for("editMessageText", 42) == 0.0                  # edits count only globally


def test_global_limit_paces_everything() -> None:
    clock = Clock()
    lim = FloodLimiter(FloodLimits(global_per_second=30, global_burst=30), clock=clock)
    waits = [lim.delay_for("sendMessage", 1000 + i) for i in range(31)]
    assert waits[29] == 0.0 and waits[30] == pytest.approx(1 / 30)


def test_retry_after_pauses_and_retries_until_it_goes_through() -> None:
    lim = FloodLimiter(FloodLimits.off(max_retries=3))
    calls: list[float] = []

    async def callback(*args: Any, **kwargs: Any) -> bool:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) < 3:
            raise RetryAfter(1)
        return True

    async def main() -> bool:
        return bool(await lim.process_request(callback, (), {}, "sendMessage", {"chat_id": 1}, None))

    assert asyncio.run(main()) is True
    assert len(calls) == 3 and calls[1] - calls[0] >= 1.0 and calls[2] - calls[1] >= 1.0
    assert lim.retries == 2


def test_retry_after_gives_up_after_max_retries() -> None:
    lim = FloodLimiter(FloodLimits.off(max_retries=0))

    async def callback(*args: Any, **kwargs: Any) -> bool:
        raise RetryAfter(1)

    with pytest.raises(RetryAfter):
        asyncio.run(lim.process_request(callback, (), {}, "sendMessage", {"chat_id": 1}, None))
