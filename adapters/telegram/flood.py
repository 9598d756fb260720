"""Flood control: Telegram's per-chat, per-group and global sending limits, and 429 retry_after honoured."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger("finbot.telegram")

#: Methods that put a message in a chat and so count against the per-chat and per-group limits.
SENDING = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage",
                     "forwardMessage"})
#: Methods that never count (answers to presses must be fast; reading is free).
UNLIMITED = frozenset({"getUpdates", "answerCallbackQuery", "getMe", "getWebhookInfo",
                       "setWebhook", "deleteWebhook", "setMyCommands", "getMyCommands",
                       "deleteMyCommands", "getChatMember", "getChat", "getFile"})


@dataclass(frozen=True)
class FloodLimits:
    """Sending rates: Telegram documents about 1 message/s per chat, 20/min per group, 30/s overall."""

    global_per_second: float = 30.0
    global_burst: float = 30.0
    chat_per_second: float = 1.0
    chat_burst: float = 5.0
    group_per_minute: float = 20.0
    group_burst: float = 20.0
    max_retries: int = 10

    @classmethod
    def off(cls, max_retries: int = 10) -> FloodLimits:
        """No proactive throttling (benchmarks); 429 answers are still honoured."""
        inf = float("inf")
        return cls(inf, inf, inf, inf, inf, inf, max_retries)


class Bucket:
    """A token bucket that reserves a slot and says how long to wait for it (FIFO by reservation)."""

    def __init__(self, rate_per_second: float, burst: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_second
        self.burst = max(1.0, burst)
        self.clock = clock
        self.tokens = self.burst
        self.stamp = clock()

    def reserve(self) -> float:
        """Take one token; seconds until it is really available (0 when it is now)."""
        if self.rate == float("inf"):
            return 0.0
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def idle(self) -> bool:
        """Whether the bucket is full again (and can be forgotten)."""
        return self.tokens + (self.clock() - self.stamp) * self.rate >= self.burst


class FloodLimiter(BaseRateLimiter[int]):
    """Throttles sends per chat, per group and overall; on 429 pauses for retry_after the chat the
    refused request was for (every request when it was for no chat), so one chat's flood never
    holds up the others."""

    def __init__(self, limits: FloodLimits | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or FloodLimits()
        self._clock = clock
        self._global = Bucket(self.limits.global_per_second, self.limits.global_burst, clock)
        self._chats: dict[int | str, Bucket] = {}
        self._resume_at = 0.0
        self._chat_resume_at: dict[int | str, float] = {}
        self.retries = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    def delay_for(self, endpoint: str, chat_id: object) -> float:
        """Reserve the slots a request needs now; the seconds to wait before sending it."""
        if endpoint in UNLIMITED:
            return 0.0
        wait = self._global.reserve()
        if endpoint in SENDING and chat_id is not None:
            wait = max(wait, self._chat_bucket(chat_id).reserve())
        return wait

    async def reserve(self, endpoint: str, chat_id: object) -> float:
        """The seconds to wait before sending (this process's buckets; the Redis limiter shares them)."""
        return self.delay_for(endpoint, chat_id)

    def is_group(self, chat_id: object) -> bool:
        """Whether a chat id is a group's (negative, or an @channel name)."""
        key = self._key(chat_id)
        return isinstance(key, str) or key < 0

    @staticmethod
    def _key(chat_id: object) -> int | str:
        try:
            return int(chat_id)  # type: ignore[call-overload, no-any-return]
        except (TypeError, ValueError):
            return str(chat_id)

    def _chat_bucket(self, chat_id: object) -> Bucket:
        key = self._key(chat_id)
        bucket = self._chats.get(key)
        if bucket is None:
            if len(self._chats) > 1024:
                self._chats = {k: b for k, b in self._chats.items() if not b.idle()}
            group = isinstance(key, str) or key < 0
            bucket = (Bucket(self.limits.group_per_minute / 60.0, self.limits.group_burst, self._clock)
                      if group else
                      Bucket(self.limits.chat_per_second, self.limits.chat_burst, self._clock))
            self._chats[key] = bucket
        return bucket

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for the slot, send, and on 429 wait retry_after and send again (up to max_retries)."""
        max_retries = self.limits.max_retries if rate_limit_args is None else rate_limit_args
        chat_id = data.get("chat_id")
        key = self._key(chat_id) if chat_id is not None else None
        wait = await self.reserve(endpoint, chat_id)
        if wait > 0:
            await asyncio.sleep(wait)
        attempt = 0
        while True:
            resume = self._resume_at if key is None else max(self._resume_at,
                                                             self._chat_resume_at.get(key, 0.0))
            pause = resume - self._clock()
            if pause > 0:
                await asyncio.sleep(pause)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt >= max_retries:
                    log.error("%s still refused after %d retries (429)", endpoint, attempt)
                    raise
                attempt += 1
                self.retries += 1
                seconds = retry_seconds(exc)
                log.warning("429 on %s: waiting %.1f s (retry %d)", endpoint, seconds, attempt)
                until = self._clock() + seconds + 0.05
                if key is None:
                    self._resume_at = max(self._resume_at, until)
                else:
                    if len(self._chat_resume_at) > 1024:
                        now = self._clock()
                        self._chat_resume_at = {k: t for k, t in self._chat_resume_at.items() if t > now}
                    self._chat_resume_at[key] = max(self._chat_resume_at.get(key, 0.0), until)


def retry_seconds(exc: RetryAfter) -> float:
    """Seconds a 429 asks to wait (PTB 22 keeps a timedelta; its int accessor is deprecated)."""
    value = getattr(exc, "_retry_after", None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    raw = exc.retry_after
    return raw.total_seconds() if isinstance(raw, timedelta) else float(raw)


#: Reserve one token in each bucket named by KEYS (ARGV: rate per second and burst, per key) on Redis' own
#: clock; the seconds until the last of them is really there ("0" when now). Tokens may go negative: that is
#: the queue of reservations, first come first served, shared by every worker.
TOKEN_BUCKET_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = 0
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local v = redis.call('HMGET', key, 'tokens', 'stamp')
  local tokens = tonumber(v[1]) or burst
  local stamp = tonumber(v[2]) or now
  tokens = math.min(burst, tokens + (now - stamp) * rate) - 1
  redis.call('HSET', key, 'tokens', string.format('%.6f', tokens), 'stamp', string.format('%.6f', now))
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) / rate * 1000) + 1000)
  if tokens < 0 and -tokens / rate > wait then wait = -tokens / rate end
end
return string.format('%.6f', wait)
"""


class RedisFloodLimiter(FloodLimiter):
    """The same limits, shared by every worker of one bot through token buckets in Redis (one Lua script a
    request, atomic); when Redis cannot be reached a request falls back to this process's own buckets."""

    def __init__(self, redis_url: str, bot_key: str, limits: FloodLimits | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(limits, clock)
        import redis.asyncio as aioredis

        self.redis = aioredis.from_url(redis_url)
        self.prefix = f"finbot:flood:{bot_key}"
        self._script = self.redis.register_script(TOKEN_BUCKET_LUA)
        self.fallbacks = 0

    async def shutdown(self) -> None:
        """Close the Redis connections."""
        await self.redis.aclose()

    def buckets(self, endpoint: str, chat_id: object) -> list[tuple[str, float, float]]:
        """The buckets (key, rate per second, burst) a request takes a token from."""
        lim = self.limits
        out = [(f"{self.prefix}:global", lim.global_per_second, lim.global_burst)]
        if endpoint in SENDING and chat_id is not None:
            if self.is_group(chat_id):
                out.append((f"{self.prefix}:chat:{chat_id}", lim.group_per_minute / 60.0, lim.group_burst))
            else:
                out.append((f"{self.prefix}:chat:{chat_id}", lim.chat_per_second, lim.chat_burst))
        return [(k, r, b) for k, r, b in out if r != float("inf")]

    async def reserve(self, endpoint: str, chat_id: object) -> float:
        """Take the tokens in Redis; this process's buckets when Redis fails."""
        if endpoint in UNLIMITED:
            return 0.0
        buckets = self.buckets(endpoint, chat_id)
        if not buckets:
            return 0.0
        args: list[float] = []
        for _, rate, burst in buckets:
            args += [rate, max(1.0, burst)]
        try:
            raw = await self._script(keys=[k for k, _, _ in buckets], args=args)
        except Exception as exc:  # redis down or unreachable: limits still hold per process
            self.fallbacks += 1
            if self.fallbacks == 1 or self.fallbacks % 100 == 0:
                log.warning("flood limits: Redis failed (%s); using this process's own buckets", exc)
            return self.delay_for(endpoint, chat_id)
        return float(raw.decode() if isinstance(raw, bytes) else raw)


def flood_limiter(settings: Any, limits: FloodLimits | None = None) -> FloodLimiter:
    """The limiter for a bot: shared through Redis when REDIS_URL is set, else this process's own."""
    url = getattr(settings, "redis_url", "")
    if not url:
        return FloodLimiter(limits)
    import hashlib

    bot_key = hashlib.sha256(str(settings.telegram_bot_token).encode()).hexdigest()[:12]
    return RedisFloodLimiter(url, bot_key, limits)
