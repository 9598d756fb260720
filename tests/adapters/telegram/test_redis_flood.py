"""Flood limits shared by workers through Redis (issue 17): one bucket for every process, the local one as fallback."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from adapters.telegram.flood import FloodLimiter, FloodLimits, RedisFloodLimiter, flood_limiter
from bot.config import Settings

REDIS = "redis://127.0.0.1:6379/15"


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_two_workers_share_one_chat_bucket_and_the_group_limit() -> None:
    limits = FloodLimits(global_per_second=30, global_burst=30, chat_per_second=1, chat_burst=1,
                         group_per_minute=20, group_burst=2)
    key = uuid.uuid4().hex[:12]

    async def scenario() -> tuple[list[float], list[float], float]:
        a, b = RedisFloodLimiter(REDIS, key, limits), RedisFloodLimiter(REDIS, key, limits)
        try:
            chat = [await a.reserve("sendMessage", 42), await b.reserve("sendMessage", 42),
                    await a.reserve("sendMessage", 42)]
            group = [await b.reserve("sendMessage", -100), await a.reserve("sendMessage", -100),
                     await b.reserve("sendMessage", -100)]
            free = await a.reserve("answerCallbackQuery", 42)
            return chat, group, free
        finally:
            await a.shutdown()
            await b.shutdown()

    chat, group, free = asyncio.run(scenario())
    assert chat[0] == 0 and 0.9 < chat[1] <= 1.0 and 1.9 < chat[2] <= 2.0, chat  # 1/s, whichever worker asks
    assert group[0] == 0 and group[1] == 0 and 2.9 < group[2] <= 3.0, group       # 20/min after a burst of 2
    assert free == 0


def test_without_redis_each_process_limits_itself() -> None:
    plain = flood_limiter(Settings(_env_file=None, redis_url=""))  # type: ignore[call-arg]
    assert type(plain) is FloodLimiter
    broken = RedisFloodLimiter("redis://127.0.0.1:1/0", "k", FloodLimits(chat_per_second=1, chat_burst=1))

    async def scenario() -> list[float]:
        try:
            return [await broken.reserve("sendMessage", 7), await broken.reserve("sendMessage", 7)]
        finally:
            await broken.shutdown()

    first, second = asyncio.run(scenario())
    assert first == 0 and 0.9 < second <= 1.0 and broken.fallbacks == 2, (first, second)
