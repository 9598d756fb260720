"""Passkeys in a real browser (issue 16): Debian's chromium, Playwright, a CDP virtual authenticator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot import passkeys as pk
from bot.models import PasskeyCredential, User
from tests.adapters.web.browser import ARGS, Site, add_authenticator, need_chromium, start_site
from tests.bot.test_engine import onboard


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


def test_enrol_in_the_browser(site: Site, page: Any) -> None:
    add_authenticator(page)
    url = enrol_link(site, "alice")
    page.goto(url)
    assert page.locator("h1").inner_text() == "Add a passkey"
    page.fill("#name", "test phone")
    page.click("#go")
    page.wait_for_selector("#status.good")
    assert "Passkey added: test phone" in page.inner_text("#status")
    with Session(site.world.db) as s:
        rows = s.exec(select(PasskeyCredential)).all()
        assert [(r.name, r.transports) for r in rows] == [("test phone", '["internal"]')]
    assert any("Passkey added" in str(i["text"]) for i in site.shown)
    page.goto(url)
    assert "Done: your passkey was added." in page.inner_text("#status")
