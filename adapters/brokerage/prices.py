"""Deterministic seeded price paths: a mean-reverting daily walk with a bridged minute walk inside."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import ROUND_CEILING, Context, Decimal

from bot.broker import PRICE_TICK

MINUTES_PER_DAY = 1440
ANCHOR_DAY = (date(2024, 1, 1) - date(1970, 1, 1)).days
DAY_STEP_BPS = 250  # daily change uniform in [-250, 250] basis points of log price
MINUTE_STEP_BPS = 7  # minute change uniform in [-7, 7]
REVERSION = 128  # each day the level loses 1/128 of its distance from the reference
_CTX = Context(prec=28)
_TEN_THOUSAND = Decimal(10_000)


def _digest(*parts: object) -> bytes:
    text = "\x1f".join(str(p) for p in parts).encode()
    return hashlib.blake2b(text, digest_size=64).digest()


class PricePath:
    """Mid prices for any (symbol, UTC minute) from (seed, symbol, day, minute) alone.

    The log-price level in basis points is 0 (the reference price) on 2024-01-01 and walks a
    mean-reverting step a day in both directions from there (levels are cached per symbol);
    inside a day a minute walk is bridged so it meets the next day's level at midnight.
    Everything is integer arithmetic until `ref * exp(level / 10000)`, which Decimal computes.
    """

    def __init__(self, seed: int, spread_bps: int = 4) -> None:
        self.seed = seed
        self.spread_bps = spread_bps
        self._levels: dict[str, tuple[list[int], list[int]]] = {}
        self._days: dict[tuple[str, int], list[int]] = {}
        self._mids: dict[tuple[str, Decimal, int], Decimal] = {}

    def _step(self, symbol: str, day: int) -> int:
        raw = int.from_bytes(_digest(self.seed, symbol, "day", day)[:8], "big")
        return raw % (2 * DAY_STEP_BPS + 1) - DAY_STEP_BPS

    def day_level(self, symbol: str, day: int) -> int:
        """Log-price level (bps from the reference) at midnight UTC starting the day."""
        forward, backward = self._levels.setdefault(symbol, ([0], [0]))
        if day >= ANCHOR_DAY:
            while len(forward) <= day - ANCHOR_DAY:
                prev = forward[-1]
                forward.append(prev - prev // REVERSION + self._step(symbol, ANCHOR_DAY + len(forward)))
            return forward[day - ANCHOR_DAY]
        while len(backward) <= ANCHOR_DAY - day:
            prev = backward[-1]
            backward.append(prev - prev // REVERSION + self._step(symbol, ANCHOR_DAY - len(backward)))
        return backward[ANCHOR_DAY - day]

    def _intraday(self, symbol: str, day: int) -> list[int]:
        key = (symbol, day)
        cached = self._days.get(key)
        if cached is not None:
            return cached
        walk = [0]
        chunk = 0
        while len(walk) <= MINUTES_PER_DAY:
            for byte in _digest(self.seed, symbol, "min", day, chunk):
                walk.append(walk[-1] + byte % (2 * MINUTE_STEP_BPS + 1) - MINUTE_STEP_BPS)
            chunk += 1
        start, end = self.day_level(symbol, day), self.day_level(symbol, day + 1)
        drift = walk[MINUTES_PER_DAY] - (end - start)
        levels = [start + walk[m] - (m * drift) // MINUTES_PER_DAY for m in range(MINUTES_PER_DAY)]
        if len(self._days) > 256:
            self._days.clear()
        self._days[key] = levels
        return levels

    def level(self, symbol: str, minute: int) -> int:
        """Log-price level (bps from the reference) during a UTC minute."""
        day, within = divmod(minute, MINUTES_PER_DAY)
        return self._intraday(symbol, day)[within]

    def mid(self, symbol: str, reference: Decimal, minute: int) -> Decimal:
        """The mid price during a UTC minute, on the tick."""
        key = (symbol, reference, minute)
        cached = self._mids.get(key)
        if cached is not None:
            return cached
        factor = _CTX.exp(Decimal(self.level(symbol, minute)) / _TEN_THOUSAND)
        mid = max(_CTX.multiply(reference, factor).quantize(PRICE_TICK), PRICE_TICK)
        if len(self._mids) > 200_000:
            self._mids.clear()
        self._mids[key] = mid
        return mid

    def bid_ask(self, mid: Decimal) -> tuple[Decimal, Decimal]:
        """Bid and ask around a mid: half the spread each side, at least one tick."""
        half = (mid * self.spread_bps / (2 * _TEN_THOUSAND)).quantize(PRICE_TICK, ROUND_CEILING)
        half = max(half, PRICE_TICK)
        return max(mid - half, PRICE_TICK), mid + half
