"""The web app beside the terminal chat (and tests): the passkey pages on a thread of their own,
their replies rendered into the local world and shown as they come."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from adapters.local.world import LocalWorld
from adapters.web.app import (
    MOUNTS,
    WebContext,
    WebServer,
    bind,
    build_app,
    mounted_routes,
    serves_web,
)
from bot.config import Settings


def local_runner(world: LocalWorld, show: Callable[[list[dict[str, Any]]], None] | None = None) -> Any:
    """A `Runner` for the local messenger: the work in a worker thread (one at a time), its replies
    applied to the world's message log and handed to `show` (the terminal prints them)."""
    lock = threading.Lock()

    def locked(work: Any) -> Any:
        with lock:
            value, replies = work()
            shown = world.render(replies) if replies else []
        if shown and show is not None:
            show(shown)
        return value

    async def run(work: Any) -> Any:
        return await asyncio.to_thread(locked, work)

    return run


def start_web(world: LocalWorld, settings: Settings, show: Callable[[list[dict[str, Any]]], None] | None = None,
              *, sock: Any = None, mounts: list[str] | None = None) -> WebServer | None:
    """Serve the web app in a thread when the settings ask for it (PUBLIC_BASE_URL or WEB_SERVE); None otherwise."""
    if not serves_web(settings):
        return None
    ctx = WebContext(settings, db=world.db, engine=world.engine, run=local_runner(world, show),
                     extra={"messenger": "local", "world": world})
    app = build_app(settings, extra_routes=mounted_routes(ctx, MOUNTS if mounts is None else mounts))
    return WebServer(app, sock=sock or bind(settings.webhook_listen, settings.webhook_port)).start_thread()
