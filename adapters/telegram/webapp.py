"""Telegram Mini App `initData`: checked on the server (HMAC-SHA256 keyed from the bot token, with
`auth_date` freshness) before the passkey page acts for anyone; and signed, for tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

FUTURE_SKEW_SECONDS = 60


class InitDataRefused(ValueError):
    """initData that does not prove who opened the Mini App (missing, forged, stale, no user)."""


@dataclass(frozen=True)
class WebAppUser:
    """Who opened the Mini App, as Telegram signed it."""

    user_id: str
    username: str | None
    language_code: str | None
    auth_date: int


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """initData as Telegram makes it: the fields plus their `hash` (for tests and the loopback server)."""
    mac = hmac.new(_secret(bot_token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": mac})


def check_init_data(init_data: str, bot_token: str, now: datetime, max_age_seconds: int) -> WebAppUser:
    """The user a Mini App's initData names, once its hash checks out under the bot token and its
    `auth_date` is at most `max_age_seconds` old; InitDataRefused otherwise."""
    if not init_data or not bot_token:
        raise InitDataRefused("no initData")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise InitDataRefused("initData is not a query string") from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataRefused("a field given twice")
    given = fields.get("hash", "")
    mac = hmac.new(_secret(bot_token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), mac.encode()):
        raise InitDataRefused("hash does not match")
    try:
        auth_date = int(fields.get("auth_date", ""))
    except ValueError as exc:
        raise InitDataRefused("no auth_date") from exc
    age = now.timestamp() - auth_date
    if age > max_age_seconds or age < -FUTURE_SKEW_SECONDS:
        raise InitDataRefused("auth_date is too old")
    try:
        user = json.loads(fields.get("user", ""))
        user_id = str(int(user["id"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise InitDataRefused("no user") from exc
    return WebAppUser(user_id, user.get("username"), user.get("language_code"), auth_date)
