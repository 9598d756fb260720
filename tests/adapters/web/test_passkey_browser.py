"""Passkeys in a real browser (issue 16): Debian's chromium, Playwright, a CDP virtual authenticator."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlmodel import Session, select

from adapters.local.chat import run_chat
from adapters.telegram.webapp import sign_init_data
from bot import passkeys as pk
from bot.models import PasskeyCredential, User
from tests.adapters.web.browser import ARGS, Site, add_authenticator, need_chromium, start_site
from tests.bot.test_engine import balance, onboard

TOKEN = "7123456789:AAHtest-token_for-the-mini-app"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    s = start_site(sqlite_url, tmp_path)
    onboard(s.world, "alice", topup="$100")
    onboard(s.world, "bob", pin="5182")
    yield s
    s.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    p = context.new_page()
    p.set_default_timeout(10_000)
    yield p
    context.close()


def enrol_link(site: Site, handle: str) -> str:
    w = site.world
    with Session(w.db, expire_on_commit=False) as s:
        u = s.exec(select(User).where(User.handle == handle)).one()
        link = pk.new_link(s, purpose=pk.ENROL, user=u, messenger="local", external_id=handle, now=w.now(),
                           ttl=timedelta(minutes=10))
        s.commit()
        return f"{site.base}/passkey/{link.token}"


# ------------------------------------------------------------------ the step-up, in the browser


def chat(site: Site, user: str, *lines: str) -> str:
    """Lines typed into the terminal chat (`finbot chat`) as `user`; what it printed."""
    out = io.StringIO()
    run_chat(site.world, user, inp=io.StringIO("".join(f"{line}\n" for line in lines)), out=out, web=False)
    return out.getvalue()


def printed_link(text: str, label: str) -> str:
    """The page address the terminal chat printed for a button."""
    found = re.findall(rf"🔗 {re.escape(label)}: open (http://\S+)", text)
    assert found, text
    return str(found[-1])


def enrol_in_chat(site: Site, page: Any, user: str = "alice", pin: str = "4826", name: str = "") -> str:
    """/passkey and the PIN in the terminal chat, then the printed link followed in the browser."""
    out = chat(site, user, "/passkey", pin)
    url = printed_link(out, "Add a passkey")
    page.goto(url)
    if name:
        page.fill("#name", name)
    page.click("#go")
    page.wait_for_selector("#status.good")
    return url


def confirm_link(site: Site, user: str, text: str) -> str:
    out = chat(site, user, text, "/press Confirm")
    return printed_link(out, "Confirm with passkey")


def test_enrol_from_the_terminal_chat_then_a_send_moves_once(site: Site, page: Any) -> None:
    add_authenticator(page)
    enrolled = enrol_in_chat(site, page, name="test phone")
    assert "Passkey added: test phone" in page.inner_text("#status")
    with Session(site.world.db) as s:
        rows = s.exec(select(PasskeyCredential)).all()
        assert [(r.name, r.transports) for r in rows] == [("test phone", '["internal"]')]
    assert any("Passkey added" in str(i["text"]) for i in site.shown)  # told in the chat too
    page.goto(enrolled)
    assert "Done: your passkey was added." in page.inner_text("#status")  # the link worked once
    url = confirm_link(site, "alice", "send $20 to @bob")
    page.goto(url)
    assert page.inner_text("h1") == "Confirm with your passkey"
    what = page.inner_text("#what")
    assert "Send $20.00 to @bob" in what and "Fee: $0.00" in what  # as the server renders the card
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "") if r.url.endswith("/answer") else None)
    page.click("#go")
    page.wait_for_selector("#status.good")
    assert balance(site.world, "alice") == 8000 and balance(site.world, "bob") == 2000
    assert any("Passkey accepted" in str(i["text"]) for i in site.shown)
    # a second assertion for the same card moves nothing: the page says so, and so does the server
    page.goto(url)
    assert "Done: confirmed with your passkey." in page.inner_text("#status")
    replay = page.request.post(url + "/answer", data=posted[-1], headers={"Content-Type": "application/json"})
    assert replay.json()["reason"] == "link_used"
    assert balance(site.world, "alice") == 8000 and balance(site.world, "bob") == 2000


def test_an_authenticator_without_user_verification_is_refused(site: Site, page: Any, browser: Any) -> None:
    cdp, auth_id = add_authenticator(page)
    enrol_in_chat(site, page)
    [cred] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": auth_id})["credentials"]
    other = browser.new_context()
    try:
        p2 = other.new_page()
        p2.set_default_timeout(10_000)
        cdp2, no_uv = add_authenticator(p2, uv=False)  # the same passkey, on a device that verifies nobody
        cdp2.send("WebAuthn.addCredential", {"authenticatorId": no_uv, "credential": cred})
        p2.goto(confirm_link(site, "alice", "send $20 to @bob"))
        p2.click("#go")
        p2.wait_for_selector("#status.bad")
        assert "did not verify you" in p2.inner_text("#status")
        assert p2.get_attribute("#passkey", "data-result") == "user_not_verified"
    finally:
        other.close()
    assert balance(site.world, "alice") == 10000 and balance(site.world, "bob") == 0


def test_an_assertion_for_one_card_is_refused_for_another(site: Site, page: Any) -> None:
    add_authenticator(page)
    enrol_in_chat(site, page)
    first = confirm_link(site, "alice", "send $20 to @bob")
    second = confirm_link(site, "alice", "send $30 to @bob")
    kept: list[str] = []  # the assertion made for the first card, kept from the server
    page.route("**/answer", lambda route: (kept.append(route.request.post_data or ""), route.abort()))
    page.goto(first)
    page.click("#go")
    page.wait_for_selector("#status.bad")  # the page says the bot could not be reached
    made_for_first = kept[0]
    assert page.request.post(second + "/options", data="{}", headers={"Content-Type": "application/json"}).json()["ok"]
    got = page.request.post(second + "/answer", data=made_for_first, headers={"Content-Type": "application/json"}).json()
    assert (got["ok"], got["reason"]) == (False, "challenge_mismatch")
    assert "made for another confirmation" in got["message"]
    assert balance(site.world, "alice") == 10000 and balance(site.world, "bob") == 0


def test_a_mini_app_with_forged_init_data_is_refused_and_no_webauthn_is_said(site: Site, page: Any, browser: Any) -> None:
    add_authenticator(page)
    site.world.engine.settings.telegram_bot_token = TOKEN
    with Session(site.world.db, expire_on_commit=False) as s:
        u = s.exec(select(User).where(User.handle == "alice")).one()
        link = pk.new_link(s, purpose=pk.ENROL, user=u, messenger="telegram", external_id="5001", now=site.world.now(),
                           ttl=timedelta(minutes=10))
        s.commit()
    url = f"{site.base}/passkey/{link.token}"
    fields = {"auth_date": str(int(site.world.now().timestamp())), "user": json.dumps({"id": 5001, "first_name": "Alice"})}
    forged = sign_init_data({**fields, "user": json.dumps({"id": 6666, "first_name": "Mallory"})}, "7000000000:AAnot-the-bot")
    page.goto(f"{url}#tgWebAppData={quote(forged)}")  # how Telegram's client hands initData to a Mini App
    page.click("#go")
    page.wait_for_selector("#status.bad")
    assert "not opened in Telegram by the person it is for" in page.inner_text("#status")
    page.goto(f"{url}#tgWebAppData={quote(sign_init_data(fields, TOKEN))}")
    page.reload()
    page.click("#go")
    page.wait_for_selector("#status.good, #status.bad")
    assert "Passkey added" in page.inner_text("#status"), page.inner_text("#status")  # the real initData
    with Session(site.world.db) as s:
            assert len(s.exec(select(PasskeyCredential)).all()) == 1
    # a browser without WebAuthn is told so, and the button is off
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script("delete window.PublicKeyCredential;")
        page.goto(enrol_link(site, "alice"))
        assert page.is_visible("#nowebauthn") and page.is_disabled("#go")
        assert "cannot use passkeys" in page.inner_text("#nowebauthn")
    finally:
        context.close()
