"""The bot's one web app: /healthz, mounted routes, a failing mount skipped, served by uvicorn on a free port."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from types import SimpleNamespace
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from adapters.web.app import WebContext, WebServer, build_app, mounted_routes, serves_web
from bot.config import Settings


def _settings(**extra: object) -> Settings:
    return Settings(_env_file=None, **extra)  # type: ignore[call-arg]


async def _metrics(request: Request) -> PlainTextResponse:
    return PlainTextResponse("finbot_up 1\n")


def metrics_routes(ctx: WebContext) -> list[BaseRoute]:
    """A route factory as another module would name it in MOUNTS."""
    assert ctx.settings is not None
    return [Route("/metrics", _metrics)]


def broken_routes(ctx: WebContext) -> list[BaseRoute]:
    raise RuntimeError("this module cannot mount")


def test_one_app_serves_health_and_mounted_routes() -> None:
    settings = _settings()
    ctx = WebContext(settings)
    routes = mounted_routes(ctx, [f"{__name__}:metrics_routes", f"{__name__}:broken_routes", "no.such:module"])
    assert [getattr(r, "path", "") for r in routes] == ["/metrics"]
    app = build_app(settings, extra_routes=routes, health=lambda: {"handled": 3})
    server = WebServer(app).start_thread()
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as resp:
            assert json.loads(resp.read()) == {"ok": True, "handled": 3}
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as resp:
            assert resp.read() == b"finbot_up 1\n"
    finally:
        server.stop()


def test_the_web_app_runs_only_when_asked_for() -> None:
    assert not serves_web(_settings())
    assert serves_web(_settings(public_base_url="https://finbot.example.com"))
    assert serves_web(_settings(webhook_url="https://finbot.example.com/tg"))
    assert serves_web(_settings(web_serve=True))
    s = _settings(public_base_url="https://finbot.example.com:8443/app/")
    assert s.webauthn_rp() == "finbot.example.com"
    assert s.webauthn_allowed_origins() == ["https://finbot.example.com:8443"]
    s = _settings(webauthn_rp_id="example.com", webauthn_origins="https://a.example.com, https://b.example.com/")
    assert (s.webauthn_rp(), s.webauthn_allowed_origins()) == ("example.com", ["https://a.example.com", "https://b.example.com"])


def test_the_passkey_page_speaks_the_persons_language_and_refuses_unknown_links(tmp_path: object, sqlite_url: str) -> None:
    from datetime import timedelta
    from pathlib import Path

    from sqlmodel import Session, select

    from adapters.local.web import local_runner
    from adapters.web import passkey as page
    from bot import passkeys as pk
    from bot.models import User
    from tests.bot.conftest import make_world

    assert isinstance(tmp_path, Path)
    w = make_world(sqlite_url, tmp_path / "out", public_base_url="https://finbot.example.com")
    w.render(w.say("ola", "dm", "/start", lang="nb"))
    ctx = WebContext(w.engine.settings, db=w.db, engine=w.engine, run=local_runner(w))
    server = WebServer(build_app(w.engine.settings, extra_routes=page.routes(ctx))).start_thread()
    client = _Client(server.url)
    with Session(w.db, expire_on_commit=False) as s:
        ola = s.exec(select(User).where(User.handle == "ola")).one()
        link = pk.new_link(s, purpose=pk.ENROL, user=ola, messenger="local", external_id="ola", now=w.now(),
                           ttl=timedelta(minutes=10))
        s.commit()
    got = client.get(f"/passkey/{link.token}")
    assert got.status_code == 200 and '<html lang="nb">' in got.text
    assert "Legg til en tilgangsnøkkel" in got.text and "@ola" in got.text
    assert "default-src 'none'" in got.headers["content-security-policy"]
    assert client.get("/passkey/static/passkey.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/passkey/static/app.py").status_code == 404
    unknown = client.get("/passkey/no-such-link")
    assert "This link is not valid" in unknown.text
    refused = client.post("/passkey/no-such-link/options", content=b"{}").json()
    assert (refused["ok"], refused["reason"]) == (False, "link_unknown")
    server.stop()
    w.db.dispose()


class _Client:
    """GET and POST on a served app, with the status, headers and text of the answer."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str) -> Any:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, content: bytes) -> Any:
        return self._open(urllib.request.Request(self.base + path, data=content, method="POST"))

    @staticmethod
    def _open(req: urllib.request.Request) -> Any:
        try:
            resp = urllib.request.urlopen(req, timeout=10)
        except urllib.error.HTTPError as exc:
            resp = exc
        body = resp.read().decode()
        return SimpleNamespace(status_code=resp.status, headers={k.lower(): v for k, v in resp.headers.items()},
                               text=body, json=lambda: json.loads(body))
