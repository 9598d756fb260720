"""Alpaca market data (snapshots, bars) read with httpx so every price parses as Decimal, never float."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from bot.broker import BrokerUnavailable, InvalidRequest, UnknownSymbol

DATA_URL = "https://data.alpaca.markets"
MAX_PAGES = 50


def timeframe(step: timedelta) -> str:
    """Alpaca's bar timeframe for a step: 5Min, 1Hour, 1Day...; InvalidRequest when it has none."""
    seconds = int(step.total_seconds())
    if step <= timedelta(0) or step % timedelta(minutes=1):
        raise InvalidRequest("price history steps are whole minutes")
    if seconds % 86_400 == 0 and seconds // 86_400 == 1:
        return "1Day"
    if seconds % 3600 == 0 and seconds // 3600 <= 23:
        return f"{seconds // 3600}Hour"
    if seconds // 60 <= 59:
        return f"{seconds // 60}Min"
    raise InvalidRequest("price history steps are 1-59 minutes, 1-23 hours or one day")


def rfc3339(at: datetime) -> str:
    """An aware datetime as Alpaca's query parameters want it."""
    if at.tzinfo is None:
        raise InvalidRequest("times must be timezone-aware")
    return at.isoformat().replace("+00:00", "Z")


class AlpacaMarketData:
    """The few market-data endpoints the broker needs: latest snapshot and historical bars."""

    def __init__(self, api_key: str, secret_key: str, *, url: str = DATA_URL, feed: str = "iex",
                 timeout: float = 10.0) -> None:
        self.feed = feed
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"APCA-API-KEY-ID": api_key, "APCA-API-SECRET-KEY": secret_key},
            timeout=timeout,
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        try:
            response = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise BrokerUnavailable(f"Alpaca market data unreachable: {exc}") from exc
        if response.status_code >= 400:
            if response.status_code in (400, 404, 422):
                raise InvalidRequest(f"Alpaca market data: {response.text}")
            raise BrokerUnavailable(f"Alpaca market data answered {response.status_code}: {response.text}")
        return json.loads(response.text, parse_float=Decimal)

    def snapshot(self, symbol: str) -> dict[str, Any]:
        """Latest trade and quote of one symbol (UnknownSymbol when Alpaca has none)."""
        body = self._get("/v2/stocks/snapshots", {"symbols": symbol, "feed": self.feed})
        snap = body.get(symbol) if isinstance(body, dict) else None
        if not snap:
            raise UnknownSymbol(symbol)
        return dict(snap)

    def bars(self, symbol: str, start: datetime, end: datetime, step: timedelta) -> list[tuple[datetime, Decimal]]:
        """(bar start, close) for every bar from start to end, following next_page_token."""
        params: dict[str, Any] = {
            "symbols": symbol, "timeframe": timeframe(step), "start": rfc3339(start), "end": rfc3339(end),
            "limit": 10_000, "adjustment": "raw", "feed": self.feed, "sort": "asc",
        }
        out: list[tuple[datetime, Decimal]] = []
        for _ in range(MAX_PAGES):
            body = self._get("/v2/stocks/bars", params)
            for bar in (body.get("bars") or {}).get(symbol) or []:
                out.append((datetime.fromisoformat(bar["t"].replace("Z", "+00:00")), Decimal(bar["c"])))
            token = body.get("next_page_token")
            if not token:
                break
            params["page_token"] = token
        return out
