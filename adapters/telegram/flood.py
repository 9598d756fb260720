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
        wait = self.delay_for(endpoint, chat_id)
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
