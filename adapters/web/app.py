"""The bot's one ASGI app and its server: Starlette under uvicorn, in the bot's own event loop or a thread.

Every page the bot process serves is a route of the one app `build_app` makes: the Telegram webhook
(when webhooks are on), `/healthz`, the passkey pages, and whatever other modules mount. A module
mounts its routes in one of two ways:

- pass them to `build_app(settings, extra_routes=[Route("/metrics", endpoint)])` (tests, scripts); or
- name a factory in `MOUNTS` (one line, ``"package.module:function"``): the function takes the
  `WebContext` of the run (settings, database, engine, and `run` to do engine work and deliver
  its replies) and returns its routes. `finbot run` and `finbot chat` build the app from these.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import Settings
from bot.events import Reply

log = logging.getLogger("finbot.web")
T = TypeVar("T")

#: Work for the engine's thread: it returns a value for the page and the replies to deliver to chats.
Work = Callable[[], tuple[T, list[Reply]]]
#: Runs `Work` where engine work runs (the transport's engine thread, or at once) and delivers its replies.
Runner = Callable[[Work[Any]], Awaitable[Any]]

#: Route factories the composition root mounts on every run: "module:function", each
#: function(WebContext) -> Sequence[BaseRoute]. One line a module.
MOUNTS: list[str] = [
    "adapters.web.passkey:routes",
    "adapters.funding.webhook:routes",  # ops: the funding provider's settlement webhook (FUNDING=bank)
    "adapters.web.metrics:routes",  # workers: this worker's /metrics
]


async def run_inline(work: Work[T]) -> T:
    """A `Runner` with no chats to deliver to: does the work in a worker thread and drops its replies."""
    value, _replies = await asyncio.to_thread(work)
    return value


@dataclass
class WebContext:
    """What a route factory may use: the run's settings, database, engine, and its `Runner`."""

    settings: Settings
    db: Any = None  # sqlalchemy.Engine of the bot's database
    engine: Any = None  # the conversation engine (bot.engine.Engine), when the run has one
    run: Runner = run_inline
    extra: dict[str, Any] = field(default_factory=dict)


def mounted_routes(ctx: WebContext, mounts: Sequence[str] | None = None) -> list[BaseRoute]:
    """The routes of every factory in `mounts` (default `MOUNTS`), in order; a failing one is logged and skipped."""
    routes: list[BaseRoute] = []
    for name in MOUNTS if mounts is None else mounts:
        module, _, func = name.partition(":")
        try:
            factory = getattr(importlib.import_module(module), func)
            routes.extend(factory(ctx))
        except Exception:
            log.exception("web routes of %s not mounted", name)
    return routes


def public_base_url(settings: Settings) -> str:
    """PUBLIC_BASE_URL without its trailing slash ('' when the bot has no public web address)."""
    return settings.public_base_url.rstrip("/")


def serves_web(settings: Settings) -> bool:
    """Whether this run serves the web app: a webhook, a public base URL, or WEB_SERVE asks for it."""
    return bool(settings.webhook_url or settings.public_base_url or settings.web_serve)


def build_app(
    settings: Settings,
    *,
    routes: Sequence[BaseRoute] = (),
    extra_routes: Sequence[BaseRoute] = (),
    health: Callable[[], dict[str, Any]] | None = None,
) -> Starlette:
    """The one ASGI app: `routes` (the transport's own, e.g. the webhook), `/healthz`, then `extra_routes`."""

    async def healthz(request: Request) -> Response:
        body: dict[str, Any] = {"ok": True}
        if health is not None:
            body.update(health())
        return JSONResponse(body)

    app = Starlette(routes=[*routes, Route("/healthz", healthz, methods=["GET"]), *extra_routes])
    app.state.settings = settings
    return app


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: the bot's loop (or the caller) decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # uvicorn before 0.29
        return None


def bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket (port 0: a free one; its number is `sock.getsockname()[1]`). With `reuse_port`,
    several worker processes listen on one port and the kernel spreads the connections over them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class WebServer:
    """One uvicorn server for one app on one socket: `serve` in a running loop, or `start_thread`."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, *, reuse_port: bool = False,
                 sock: socket.socket | None = None) -> None:
        self.app = app
        self.sock = sock if sock is not None else bind(host, port, reuse_port=reuse_port)
        self.port = int(self.sock.getsockname()[1])
        self.host = host
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                proxy_headers=True, forwarded_allow_ips="127.0.0.1")
        self.server = _Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The loopback URL it answers on."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    async def serve(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set (in the caller's loop), then close the connections."""
        task = asyncio.ensure_future(self.server.serve(sockets=[self.sock]))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            self.server.should_exit = True
            with contextlib.suppress(Exception):
                await task
            self.sock.close()

    def start_thread(self) -> WebServer:
        """Serve in a daemon thread of its own (the terminal chat, tests); `stop()` ends it."""
        started = threading.Event()

        def target() -> None:
            async def main() -> None:
                task = asyncio.ensure_future(self.server.serve(sockets=[self.sock]))
                while not self.server.started and not task.done():
                    await asyncio.sleep(0.01)
                started.set()
                await task

            asyncio.run(main())

        self._thread = threading.Thread(target=target, daemon=True, name="finbot-web")
        self._thread.start()
        started.wait(10)
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop a server started with `start_thread` and wait for it."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self.sock.close()
