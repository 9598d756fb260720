"""Mini App initData: the HMAC scheme keyed from the bot token, auth_date freshness, the user it names."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

import pytest

from adapters.telegram.webapp import InitDataRefused, check_init_data, sign_init_data

TOKEN = "7123456789:AAHtest-token_for-initdata"
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def fields(**extra: str) -> dict[str, str]:
    base = {"auth_date": str(int(NOW.timestamp()) - 30), "query_id": "AAH1",
            "user": json.dumps({"id": 5001, "first_name": "Alice", "username": "alice", "language_code": "nb"})}
    return {**base, **extra}


def test_signed_init_data_names_its_user() -> None:
    user = check_init_data(sign_init_data(fields(), TOKEN), TOKEN, NOW, 3600)
    assert (user.user_id, user.username, user.language_code) == ("5001", "alice", "nb")


def test_the_scheme_is_telegrams_documented_one() -> None:
    # secret = HMAC_SHA256(key="WebAppData", msg=token); hash = hex HMAC_SHA256(secret, sorted k=v lines)
    f = fields()
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    line = "\n".join(f"{k}={f[k]}" for k in sorted(f))
    data = urlencode({**f, "hash": hmac.new(secret, line.encode(), hashlib.sha256).hexdigest()})
    assert check_init_data(data, TOKEN, NOW, 3600).user_id == "5001"


@pytest.mark.parametrize("case", ["forged_user", "other_token", "no_hash", "stale", "future", "no_user", "empty", "twice"])
def test_forged_stale_or_broken_init_data_is_refused(case: str) -> None:
    good = sign_init_data(fields(), TOKEN)
    data = {
        "forged_user": good.replace("5001", "5002"),
        "other_token": sign_init_data(fields(), "7000000000:AAother"),
        "no_hash": urlencode(fields()),
        "stale": sign_init_data(fields(auth_date=str(int(NOW.timestamp()) - 3601)), TOKEN),
        "future": sign_init_data(fields(auth_date=str(int(NOW.timestamp()) + 600)), TOKEN),
        "no_user": sign_init_data({k: v for k, v in fields().items() if k != "user"}, TOKEN),
        "empty": "",
        "twice": good + "&user=" + dict(parse_qsl(good))["user"],
    }[case]
    with pytest.raises(InitDataRefused):
        check_init_data(data, TOKEN, NOW, 3600)
