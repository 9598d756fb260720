"""Passkeys on Telegram end to end (issue 16): the real engine and transport against the loopback Bot
API server, the passkey page on the transport's one web app, its Web App (Mini App) buttons, and the
page's requests carrying Mini App initData signed under the bot token (forged initData refused)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.telegram.webapp import sign_init_data
from tests.adapters.telegram.harness import bot_settings, free_port
from tests.adapters.telegram.test_with_engine import FAST_PIN, World, assert_book_holds, balances
from tests.tools.botapi_server import BotApiServer, User
from tests.tools.soft_authenticator import SoftAuthenticator

ORIGIN = "https://finbot.test"


@pytest.fixture
def tg(server: BotApiServer, sqlite_url: str) -> Iterator[tuple[World, str]]:
    port = free_port()
    settings = bot_settings(server, sqlite_url, public_base_url=ORIGIN, webhook_port=port, **FAST_PIN)
    w = World(server, sqlite_url, settings)
    w.start()
    yield w, f"http://127.0.0.1:{port}"
    w.stop()


def init_data(server: BotApiServer, user: User, token: str | None = None) -> str:
    """What Telegram's client hands a Mini App it opens for `user` (signed with the bot's token)."""
    fields = {"auth_date": str(int(time.time())), "query_id": "AAF1",
              "user": json.dumps({"id": user.id, "first_name": user.first_name, "username": user.username})}
    return sign_init_data(fields, token or server.token)


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def page_token(button: dict[str, Any]) -> str:
    """The link token of a Web App button (https://finbot.test/passkey/<token>)."""
    url = str(button["web_app"]["url"])
    assert url.startswith(f"{ORIGIN}/passkey/"), button
    return url.rsplit("/", 1)[1]


def test_passkey_on_telegram_web_app_buttons_and_initdata(tg: tuple[World, str]) -> None:
    world, web = tg
    s = world.server
    alice, bob, mallory = s.create_user("Alice", "alice"), s.create_user("Bob", "bob"), s.create_user("Mallory", "mallory")
    world.onboard(alice, "4826")
    world.top_up(alice, 100, "4826")
    world.onboard(bob, "3958")
    # /passkey, the current PIN, then a Web App button to the enrolment page
    world.say(alice, "/passkey")
    typed = world.say(alice, "4826")
    assert s.message(alice.id, typed["message_id"]).deleted
    token = page_token(world.last_with(alice.id, "Add a passkey").button("Add a passkey"))
    auth = SoftAuthenticator("finbot.test", ORIGIN)
    # a Mini App request with forged initData (Mallory's, or not signed with the bot token) is refused
    for forged in (init_data(s, mallory), init_data(s, alice, token="7000000000:AAforged"), ""):
        code, got = post(f"{web}/passkey/{token}/options", {"initData": forged})
        assert (code, got["ok"], got["reason"]) == (403, False, "wrong_person"), got
    code, got = post(f"{web}/passkey/{token}/options", {"initData": init_data(s, alice)})
    assert code == 200 and got["ok"], got
    code, got = post(f"{web}/passkey/{token}/answer", {"initData": init_data(s, alice), "name": "phone",
                                                          "credential": auth.register(got["options"])})
    assert got["ok"], got
    assert "Passkey added: phone" in world.last(alice.id).text
    # a card: its step-up question carries the Web App button beside the PIN keypad
    world.say(alice, "send $20 to @bob")
    world.press(alice, world.last_with(alice.id, "Confirm"), "Confirm")
    question = world.last_with(alice.id, "Confirm with passkey")
    assert "PIN" in question.text and question.buttons[1][0]["text"] == "1"  # the keypad is the fallback
    token = page_token(question.button("Confirm with passkey"))
    code, got = post(f"{web}/passkey/{token}/options", {"initData": init_data(s, mallory)})
    assert code == 403 and got["reason"] == "wrong_person"
    code, opts = post(f"{web}/passkey/{token}/options", {"initData": init_data(s, alice)})
    assert opts["ok"], opts
    answer = auth.assert_(opts["options"])
    code, got = post(f"{web}/passkey/{token}/answer", {"initData": init_data(s, alice), "credential": answer})
    assert got["ok"], got
    s.settle(30)
    assert any("Passkey accepted" in t for t in world.texts(alice.id))
    assert balances(world.url) == {"@alice": {"USD": "80.00"}, "@bob": {"USD": "20.00"}}
    # the same assertion again moves nothing
    code, got = post(f"{web}/passkey/{token}/answer", {"initData": init_data(s, alice), "credential": answer})
    assert (got["ok"], got["reason"]) == (False, "link_used"), got
    s.settle(30)
    assert balances(world.url) == {"@alice": {"USD": "80.00"}, "@bob": {"USD": "20.00"}}
    assert_book_holds(world.url)
