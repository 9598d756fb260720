"""Runs the Telegram transport: long polling or a webhook server, the engine between, replies via the outbox."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import hashlib
import hmac
import json
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import BotCommand, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    TelegramError,
)
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from adapters.telegram.convert import BotIdentity, to_event
from adapters.telegram.flood import FloodLimiter, FloodLimits
from adapters.telegram.render import UnrenderableReply, render
from adapters.telegram.store import FAILED, SENT, TelegramStore
from bot.config import Settings
from bot.events import Event, Reply, ReplyKind

log = logging.getLogger("finbot.telegram")

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
LANGUAGES = ("en", "nb", "fr")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
T = TypeVar("T")


class EnginePort(Protocol):
    """What the transport needs of the conversation engine."""

    def handle(self, event: Event) -> list[Reply]: ...
    def tick(self) -> list[Reply]: ...
    def message_sent(self, ref: str, chat_id: str, message_id: str) -> None: ...
    def bot_commands(self, lang: str) -> list[tuple[str, str]]: ...


def file_base_url(api_base: str) -> str:
    """The file-download base matching an API base: `.../bot` -> `.../file/bot`."""
    head, _, tail = api_base.rstrip("/").rpartition("/")
    return f"{head}/file/{tail}"


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, or one derived from the token when it is not set."""
    if settings.webhook_secret:
        return settings.webhook_secret
    return hashlib.sha256(b"finbot-webhook:" + settings.telegram_bot_token.encode()).hexdigest()[:48]


def make_bot(settings: Settings, limits: FloodLimits | None = None, poll_timeout: float = 25) -> ExtBot[Any]:
    """A python-telegram-bot `ExtBot` aimed at TELEGRAM_API_BASE with finbot's flood control."""
    if not settings.telegram_bot_token:
        raise InvalidToken("TELEGRAM_BOT_TOKEN is not set")
    return ExtBot(
        settings.telegram_bot_token,
        base_url=settings.telegram_api_base,
        base_file_url=file_base_url(settings.telegram_api_base),
        request=HTTPXRequest(connection_pool_size=16, read_timeout=15, media_write_timeout=30),
        get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=poll_timeout + 10),
        rate_limiter=FloodLimiter(limits),
    )


class Transport:
    """One bot on Telegram: updates in (handled once, in order), replies out through the outbox."""

    def __init__(
        self,
        settings: Settings,
        engine: EnginePort,
        *,
        limits: FloodLimits | None = None,
        poll_timeout: float = 25,
        tick_seconds: float = 30.0,
        routes: Sequence[Any] = (),
        store: TelegramStore | None = None,
        on_ready: Callable[[Transport], None] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.poll_timeout = poll_timeout
        self.tick_seconds = tick_seconds
        self.routes = list(routes)
        self.bot = make_bot(settings, limits, poll_timeout)
        self._store = store
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="finbot-engine")
        self._lock = asyncio.Lock()
        self.me = BotIdentity(0, "")
        self.handled = 0
        self.webhook_port: int | None = None
        self.on_ready = on_ready
        self._unrecorded: dict[int, list[Reply]] = {}

    @property
    def store(self) -> TelegramStore:
        """The transport's tables (opened on start, in the engine's thread)."""
        assert self._store is not None, "transport not started"
        return self._store

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking engine/database work on the one engine thread, in order."""
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, functools.partial(fn, *args, **kwargs))

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Connect, learn who the bot is, set the command menus, send what a crash left unsent."""
        if self._store is None:
            self._store = await self._call(TelegramStore, self.settings.database_url)
        await self.bot.initialize()
        self.me = BotIdentity(self.bot.bot.id, self.bot.bot.username or "")
        await self.set_commands()
        async with self._lock:
            await self.flush()

    async def close(self) -> None:
        """Disconnect and release the engine thread."""
        try:
            await self.bot.shutdown()
        finally:
            self._pool.shutdown(wait=True)

    async def set_commands(self) -> None:
        """The command menu in every language the engine speaks (English also as the default)."""
        for lang in LANGUAGES:
            try:
                pairs = await self._call(self.engine.bot_commands, lang)
                commands = [BotCommand(c.lstrip("/").lower(), d) for c, d in pairs]
                await self.bot.set_my_commands(commands, language_code=lang)
                if lang == "en":
                    await self.bot.set_my_commands(commands)
            except TelegramError as exc:
                log.warning("setMyCommands(%s) failed: %s", lang, exc)

    # ------------------------------------------------------------------ the pipeline

    async def process(self, update: Update, *, advance: bool) -> None:
        """Handle one update exactly once: engine, then replies queued with the update id, then sent."""
        async with self._lock:
            if await self._call(self.store.is_handled, update.update_id):
                if advance:
                    await self._call(self.store.advance, update.update_id + 1)
                return
            replies = self._unrecorded.get(update.update_id)
            if replies is None:
                event = to_event(update, self.me, datetime.now(UTC))
                replies = await self._handle(event) if event is not None else []
                self._unrecorded[update.update_id] = replies
            cq = update.callback_query
            if cq is not None and not any(
                r.kind is ReplyKind.answer_press and r.press_id == cq.id for r in replies
            ):
                chat_id = str(cq.message.chat.id) if cq.message else str(cq.from_user.id)
                replies.append(Reply(ReplyKind.answer_press, chat_id, press_id=cq.id))
            await self._call(self.store.record, update.update_id, replies, advance=advance)
            del self._unrecorded[update.update_id]
            self.handled += 1
            await self.flush()

    async def _handle(self, event: Event) -> list[Reply]:
        """The engine's replies; a failing engine is retried (it is idempotent), then the event logged."""
        for attempt in range(3):
            try:
                return list(await self._call(self.engine.handle, event))
            except Exception:
                log.exception("engine failed on %s (attempt %d)", event.event_id, attempt + 1)
                await asyncio.sleep(0.2 * (attempt + 1))
        return []

    async def tick(self) -> None:
        """Run the engine's due work and send what it produced."""
        async with self._lock:
            try:
                replies = list(await self._call(self.engine.tick))
            except Exception:
                log.exception("engine tick failed")
                return
            if replies:
                await self._call(self.store.record, None, replies, source="tick")
            await self.flush()

    async def flush(self) -> None:
        """Send queued replies in order; report sent cards; drop those Telegram refuses outright."""
        for row_id, reply in await self._call(self.store.pending):
            for attempt in range(5):
                try:
                    message_id = await render(self.bot, reply, self.me.username)
                except ChatMigrated as exc:
                    log.info("chat %s is now supergroup %s", reply.chat_id, exc.new_chat_id)
                    reply = dataclasses.replace(reply, chat_id=str(exc.new_chat_id))
                    continue
                except (BadRequest, Forbidden, UnrenderableReply) as exc:
                    log.warning("reply %s to %s refused: %s", reply.kind, reply.chat_id, exc)
                    await self._call(self.store.mark, row_id, FAILED)
                    break
                except TelegramError as exc:
                    log.warning("reply %s to %s not sent yet: %s", reply.kind, reply.chat_id, exc)
                    await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
                    continue
                await self._call(self.store.mark, row_id, SENT, message_id)
                if reply.ref and message_id and reply.kind is ReplyKind.message:
                    try:
                        await self._call(self.engine.message_sent, reply.ref, reply.chat_id,
                                         message_id)
                    except Exception:
                        log.exception("engine.message_sent failed for %s", reply.ref)
                break
            else:
                return  # still failing: keep it (and everything after it) for the next flush

    # ------------------------------------------------------------------ receiving

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling from the stored offset until `stop`; the offset moves only after handling."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        offset = await self._call(self.store.offset)
        failures = 0
        if self.on_ready is not None:
            self.on_ready(self)
        while not stop.is_set():
            fetch = asyncio.ensure_future(self.bot.get_updates(
                offset=offset, timeout=int(self.poll_timeout), allowed_updates=ALLOWED_UPDATES))
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not fetch.done():
                fetch.cancel()
                break
            try:
                updates = fetch.result()
                failures = 0
            except (Conflict, TelegramError) as exc:
                failures += 1
                log.warning("getUpdates failed: %s", exc)
                await _sleep_or_stop(stop, min(30.0, 0.5 * 2**min(failures, 6)))
                continue
            for upd in updates:
                try:
                    await self.process(upd, advance=True)
                except Exception:
                    log.exception("update %s not handled; fetching it again", upd.update_id)
                    await _sleep_or_stop(stop, 1.0)
                    break
                offset = upd.update_id + 1

    async def serve_webhook(self, stop: asyncio.Event) -> None:
        """A web server taking Telegram's POSTs (secret header checked) beside other pages, until `stop`."""
        url = self.settings.webhook_url
        path = urlsplit(url).path or "/"
        secret = webhook_secret(self.settings)
        app = make_web_app(self, path, secret, self.routes)
        server = tornado.httpserver.HTTPServer(app, xheaders=True)
        sockets = tornado.netutil.bind_sockets(self.settings.webhook_port,
                                               address=self.settings.webhook_listen)
        server.add_sockets(sockets)
        self.webhook_port = int(sockets[0].getsockname()[1])
        log.info("webhook listening on %s:%s%s", self.settings.webhook_listen, self.webhook_port, path)
        try:
            while True:
                try:
                    await self.bot.set_webhook(url, secret_token=secret,
                                               allowed_updates=ALLOWED_UPDATES)
                    break
                except TelegramError as exc:
                    log.warning("setWebhook failed: %s", exc)
                    if await _sleep_or_stop(stop, 2.0):
                        return
            if self.on_ready is not None:
                self.on_ready(self)
            await stop.wait()
        finally:
            server.stop()
            await server.close_all_connections()

    async def tick_forever(self, stop: asyncio.Event) -> None:
        """Call the engine's tick every `tick_seconds` until `stop`."""
        while not await _sleep_or_stop(stop, self.tick_seconds):
            await self.tick()

    async def serve(self, stop: asyncio.Event) -> None:
        """Start, receive (webhook if WEBHOOK_URL is set, else polling) and tick until `stop`."""
        await self.start()
        try:
            receive = self.serve_webhook if self.settings.webhook_url else self.poll
            ticking = asyncio.ensure_future(self.tick_forever(stop))
            try:
                await receive(stop)
            finally:
                stop.set()
                await ticking
        finally:
            await self.close()


class _WebhookHandler(tornado.web.RequestHandler):
    """Telegram's webhook POSTs: 403 without the secret, 200 once the update is handled."""

    def initialize(self, transport: Transport, secret: str) -> None:
        self.transport = transport
        self.secret = secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self.set_status(403)
            self.finish({"ok": False, "description": "Forbidden"})
            return
        try:
            update = Update.de_json(json.loads(self.request.body), self.transport.bot)
        except (ValueError, TypeError, KeyError):
            self.set_status(400)
            self.finish({"ok": False, "description": "Bad Request: not an update"})
            return
        await self.transport.process(update, advance=False)
        self.finish({"ok": True})


class _HealthHandler(tornado.web.RequestHandler):
    """A liveness page for the operator and load balancers."""

    def get(self) -> None:
        self.finish({"ok": True, "bot": self.application.settings.get("bot_username", ""),
                     "handled": self.application.settings["transport"].handled})


def make_web_app(transport: Transport, path: str, secret: str,
                 routes: Sequence[Any] = ()) -> tornado.web.Application:
    """The tornado app: the webhook at `path`, `/healthz`, and any other pages given as `routes`."""
    return tornado.web.Application(
        [(path, _WebhookHandler, {"transport": transport, "secret": secret}),
         (r"/healthz", _HealthHandler), *routes],
        transport=transport, bot_username=transport.me.username,
    )


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True if `stop` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
        return True
    except TimeoutError:
        return stop.is_set()


def run(
    settings: Settings,
    engine: EnginePort,
    *,
    stop: threading.Event | None = None,
    limits: FloodLimits | None = None,
    poll_timeout: float = 25,
    tick_seconds: float = 30.0,
    routes: Sequence[Any] = (),
    on_ready: Callable[[Transport], None] | None = None,
) -> None:
    """Run the bot until SIGINT/SIGTERM (or `stop`): polling, or a webhook when WEBHOOK_URL is set."""

    async def main() -> None:
        done = asyncio.Event()
        if threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, done.set)
        watcher = asyncio.ensure_future(_watch(stop, done)) if stop is not None else None
        transport = Transport(settings, engine, limits=limits, poll_timeout=poll_timeout,
                              tick_seconds=tick_seconds, routes=routes, on_ready=on_ready)
        try:
            await transport.serve(done)
        finally:
            if watcher is not None:
                watcher.cancel()

    asyncio.run(main())


async def _watch(stop: threading.Event, done: asyncio.Event) -> None:
    """Turn a thread's stop request into the loop's."""
    while not stop.is_set():
        await asyncio.sleep(0.05)
    done.set()
