"""A live rates provider over HTTP (httpx): the euro reference rates of a day, read as Decimal, cached a while."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from bot.rates import EUR, EuroRates, FxError, NoRate, RatesPort, RatesUnavailable, embedded


class HttpRates:
    """A live provider over HTTP answering `GET {base_url}/{YYYY-MM-DD}?base=EUR` (or `/latest?base=EUR` for
    today) with `{"base": "EUR", "date": "YYYY-MM-DD", "rates": {"USD": 1.08, ...}}` (the frankfurter
    shape); numbers are read as Decimal, never float. Answers are kept `cache_seconds`."""

    name = "HTTP"

    def __init__(self, base_url: str, *, timeout_seconds: float = 5.0, cache_seconds: int = 300,
                 currencies: frozenset[str] | None = None, today: Callable[[], date] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout_seconds
        self.cache_seconds = cache_seconds
        self._known = currencies
        self._today = today or date.today
        self._transport = transport
        self._cache: dict[date, tuple[float, EuroRates]] = {}
        self._lock = threading.Lock()
        self.requests = 0  # how many times it went to the network (tests read it)

    def currencies(self) -> frozenset[str]:
        """The codes the provider quoted in its newest answer (or the ones configured)."""
        if self._known is not None:
            return self._known
        return frozenset(self.euro_rates(self._today()).per_eur)

    def euro_rates(self, on: date) -> EuroRates:
        """The provider's publication for `on` (it answers the latest before it on weekends and holidays)."""
        with self._lock:
            hit = self._cache.get(on)
            if hit is not None and time.monotonic() - hit[0] < self.cache_seconds:
                return hit[1]
        path = "latest" if on >= self._today() else on.isoformat()
        try:
            with httpx.Client(timeout=self.timeout, transport=self._transport) as client:
                self.requests += 1
                res = client.get(f"{self.base_url}/{path}", params={"base": EUR, "from": EUR})
            if res.status_code == 404:
                raise NoRate(EUR, EUR, on)
            res.raise_for_status()
            body: Any = json.loads(res.text, parse_float=Decimal, parse_int=Decimal)
            got = _from_body(body, self.name)
        except FxError:
            raise
        except (httpx.HTTPError, ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise RatesUnavailable(f"the rate provider at {self.base_url} failed: {exc}") from exc
        if got.day > on:
            raise NoRate(EUR, EUR, on)
        with self._lock:
            self._cache[on] = (time.monotonic(), got)
        return got


def _from_body(body: Any, source: str) -> EuroRates:
    base = str(body.get("base", EUR)).upper()
    if base != EUR:
        raise ValueError(f"rates are against {base}, not EUR")
    day = date.fromisoformat(str(body["date"]))
    rates = {EUR: Decimal(1)}
    for code, value in dict(body["rates"]).items():
        v = Decimal(str(value))
        if v.is_finite() and v > 0:
            rates[str(code).upper()] = v
    return EuroRates(day, rates, source)


def rates_from_settings(settings: Any, today: Callable[[], date] | None = None) -> RatesPort:
    """The port the settings name: `ecb` (embedded, the default) or `http` (FX_HTTP_URL)."""
    provider = str(getattr(settings, "fx_provider", "ecb")).lower()
    if provider == "http":
        url = str(getattr(settings, "fx_http_url", ""))
        if not url:
            raise ValueError("FX_PROVIDER=http needs FX_HTTP_URL")
        return HttpRates(url, timeout_seconds=float(settings.fx_http_timeout_seconds),
                         cache_seconds=int(settings.fx_http_cache_seconds), today=today)
    if provider != "ecb":
        raise ValueError(f"FX_PROVIDER must be ecb or http, not {provider!r}")
    return embedded()
