"""Browser-test harness: Debian's chromium driven by Playwright (never a downloaded browser), a CDP
virtual authenticator (ctap2, internal, resident keys, user verification), and the bot's web app
with a local world on a free loopback port."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.local.web import start_web
from adapters.local.world import LocalWorld
from adapters.web.app import WebServer, bind
from tests.bot.conftest import make_world

CHROMIUM = os.environ.get("FINBOT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--no-first-run"]
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def need_chromium() -> str:
    """The chromium the project's set-up installs (`make` installs Debian's package when it is missing)."""
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium") or ""
    if not path:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: the set-up (make .venv/.installed) installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing: run `make .venv/.installed` (it installs Debian's chromium)")
    return path


@dataclass
class Site:
    """The bot's web app on loopback, with the world behind it."""

    world: LocalWorld
    server: WebServer
    base: str
    shown: list[dict[str, Any]]

    def close(self) -> None:
        self.server.stop()
        report = self.world.engine.ledger.check()
        assert report.ok, report.problems
        self.world.db.dispose()


def start_site(db_url: str, tmp_path: Path, **overrides: Any) -> Site:
    """A world on `db_url` whose web app answers on http://localhost:<free port> (the RP id 'localhost')."""
    sock = bind("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    base = f"http://localhost:{port}"
    overrides.setdefault("public_base_url", base)
    world = make_world(db_url, tmp_path / "out", webhook_listen="127.0.0.1", webhook_port=port, **overrides)
    shown: list[dict[str, Any]] = []
    server = start_web(world, world.engine.settings, shown.extend, sock=sock)
    assert server is not None
    return Site(world, server, base, shown)


def add_authenticator(page: Any, *, uv: bool = True, resident: bool = True) -> tuple[Any, str]:
    """A CDP virtual authenticator on the page's browser context: ctap2 over the internal transport
    (a phone's or laptop's own), with resident keys and user verification as asked."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    got = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": resident,
        "hasUserVerification": uv, "isUserVerified": uv, "automaticPresenceSimulation": True}})
    return cdp, str(got["authenticatorId"])
