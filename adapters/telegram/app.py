"""Runs the Telegram transport: long polling or a webhook on the bot's one web app, the engine between, replies via the outbox."""

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
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import BotCommand, Update
from telegram.error import ChatMigrated, InvalidToken, TelegramError
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from adapters.telegram.convert import BotIdentity, to_event
from adapters.telegram.flood import FloodLimiter, FloodLimits
from adapters.telegram.outbox import OutboxPolicy, describe, retry_in
from adapters.telegram.render import render
from adapters.telegram.store import SENT, OutboxRow, TelegramStore
from adapters.web.app import WebContext, WebServer, build_app, mounted_routes, serves_web
from bot.config import Settings
from bot.events import Event, Reply, ReplyKind

log = logging.getLogger("finbot.telegram")

# chat_member comes only when asked for here and the bot is an administrator; my_chat_member tells the bot about itself
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "chat_member", "my_chat_member"]
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
        routes: Sequence[BaseRoute] = (),
        store: TelegramStore | None = None,
        on_ready: Callable[[Transport], None] | None = None,
        outbox: OutboxPolicy | None = None,
        min_poll_gap: float = 1.0,
        mounts: bool = True,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.poll_timeout = poll_timeout
        self.outbox = outbox or OutboxPolicy()
        self.min_poll_gap = min_poll_gap
        self.tick_seconds = tick_seconds
        self.routes = list(routes)
        self.mounts = mounts  # mount the routes of adapters.web.app.MOUNTS (the passkey pages, ...)
        self.bot = make_bot(settings, limits, poll_timeout)
        self._store = store
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="finbot-engine")
        self._lock = asyncio.Lock()
        self.me = BotIdentity(0, "")
        self.handled = 0
        self.webhook_port: int | None = None
        self.on_ready = on_ready
        self._unrecorded: dict[int, list[Reply]] = {}
        self._chat_tasks: dict[str, asyncio.Task[None]] = {}
        self._jobs: set[asyncio.Future[None]] = set()

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
        await self.kick()

    async def close(self) -> None:
        """Let deliveries under way finish, disconnect and release the engine thread."""
        try:
            running = [t for t in [*self._chat_tasks.values(), *self._jobs] if not t.done()]
            if running:
                await asyncio.wait(running, timeout=5)
                for t in running:
                    t.cancel()
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
            except Exception as exc:  # a menu is a nicety: never a reason not to start
                log.warning("setMyCommands(%s) failed: %s", lang, describe(exc))

    # ------------------------------------------------------------------ the pipeline

    async def process(self, update: Update, *, advance: bool) -> None:
        """Handle one update exactly once: engine, then replies queued with the update id, then sent
        (waiting for the sending at most `OutboxPolicy.wait_seconds`: a slow chat goes on in the
        background and does not hold up the next update)."""
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
        await self._send_soon({r.chat_id for r in replies})

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
        await self._send_soon({r.chat_id for r in replies})

    # ------------------------------------------------------------------ the outbox

    async def _send_soon(self, chats: set[str]) -> None:
        """Deliver in these chats now, waiting at most `wait_seconds` for it (then it carries on)."""
        if not chats:
            return
        job = asyncio.ensure_future(self.flush(chats))
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)
        await asyncio.wait([job], timeout=self.outbox.wait_seconds)

    async def flush(self, chats: set[str]) -> None:
        """Deliver what is due in these chats and wait for it; never raises. Each chat has its own
        delivery task, so one chat's slow or failing reply never holds up another chat."""
        rounds = [self._chat_round(str(chat)) for chat in chats]
        for chat, result in zip(chats, await asyncio.gather(*rounds, return_exceptions=True),
                                strict=True):
            if isinstance(result, BaseException):
                log.error("delivery to chat %s failed: %s", chat, describe(result), exc_info=result)

    async def kick(self) -> None:
        """Start delivery in every chat with a reply due (without waiting); never raises."""
        try:
            chats = await self._call(self.store.due_chats, time.time())
        except Exception:
            log.exception("cannot read the outbox; trying again in %.1f s", self.outbox.idle_seconds)
            return
        for chat in chats:
            task = self._chat_tasks.get(chat)
            if task is None or task.done():
                self._start_chat(chat)

    async def _chat_round(self, chat: str) -> None:
        """One delivery round for `chat` that starts after now (so it sees what was just queued)."""
        task = self._chat_tasks.get(chat)
        if task is not None and not task.done():
            await asyncio.wait([task])
        task = self._chat_tasks.get(chat)
        if task is None or task.done():
            task = self._start_chat(chat)
        await asyncio.wait([task])

    def _start_chat(self, chat: str) -> asyncio.Task[None]:
        task = asyncio.ensure_future(self._deliver_chat(chat))
        self._chat_tasks[chat] = task
        task.add_done_callback(functools.partial(self._chat_done, chat))
        return task

    def _chat_done(self, chat: str, task: asyncio.Task[None]) -> None:
        if self._chat_tasks.get(chat) is task:
            del self._chat_tasks[chat]
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            log.error("delivery to chat %s stopped: %s (retried later)", chat, describe(exc),
                      exc_info=exc)

    async def _deliver_chat(self, chat: str) -> None:
        """Send one chat's queue in order until its end or a head that must wait for a retry."""
        for row in await self._call(self.store.queue, chat):
            if row.reply is None:
                await self._give_up(row, row.problem or "unreadable", row.attempts)
                continue
            if row.next_at > time.time():
                return  # its turn comes at next_at; nothing after it may overtake it
            if not await self._deliver(row):
                return

    async def _deliver(self, row: OutboxRow) -> bool:
        """Try one reply once: True when it is settled (sent or given up), False to retry later."""
        assert row.reply is not None
        reply = row.reply
        attempts = row.attempts + 1
        for _ in range(3):
            try:
                message_id = await render(self.bot, reply, self.me.username)
            except ChatMigrated as exc:
                log.info("chat %s is now supergroup %s", reply.chat_id, exc.new_chat_id)
                reply = dataclasses.replace(reply, chat_id=str(exc.new_chat_id))
                continue
            except Exception as exc:
                wait = retry_in(exc, attempts, self.outbox)
                if wait is None:
                    await self._give_up(row, describe(exc), attempts)
                    return True
                log.warning("reply %s to chat %s not sent (try %d of %d), again in %.1f s: %s",
                            reply.kind.value, reply.chat_id, attempts, self.outbox.max_attempts,
                            wait, describe(exc))
                await self._call(self.store.retry_later, row.id, attempts, time.time() + wait,
                                 describe(exc))
                return False
            await self._call(self.store.mark, row.id, SENT, message_id)
            if reply.ref and message_id and reply.kind is ReplyKind.message:
                try:
                    await self._call(self.engine.message_sent, reply.ref, reply.chat_id, message_id)
                except Exception:
                    log.exception("engine.message_sent failed for %s", reply.ref)
            return True
        await self._give_up(row, f"chat {row.chat_id} kept migrating", attempts)
        return True

    async def _give_up(self, row: OutboxRow, error: str, attempts: int) -> None:
        """Move a reply to the dead letters (logged; `/admin deadletters` lists them)."""
        kind = row.reply.kind.value if row.reply is not None else "?"
        log.error("reply %s (outbox row %d, %s) to chat %s is a dead letter after %d tries: %s",
                  kind, row.id, row.source, row.chat_id, attempts, error)
        await self._call(self.store.dead_letter, row, error, attempts)

    async def outbox_forever(self, stop: asyncio.Event) -> None:
        """Retry due replies in the background until `stop`; logs and survives every exception."""
        while not stop.is_set():
            try:
                await self.kick()
                due = await self._call(self.store.next_due, time.time())
                pause = self.outbox.idle_seconds
                if due is not None:
                    pause = min(pause, max(0.02, due - time.time()))
            except Exception:
                log.exception("outbox task failed; carrying on")
                pause = self.outbox.idle_seconds
            if await _sleep_or_stop(stop, pause):
                return

    # ------------------------------------------------------------------ receiving

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling from the stored offset until `stop`; the offset moves only after handling."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        offset = await self._call(self.store.offset)
        failures = 0
        if self.on_ready is not None:
            self.on_ready(self)
        while not stop.is_set():
            asked = time.monotonic()
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
            except Exception as exc:  # TelegramError, or KeyError on a 200 carrying ok:false
                failures += 1
                log.warning("getUpdates failed: %s", describe(exc))
                await _sleep_or_stop(stop, min(30.0, 0.5 * 2**min(failures, 6)))
                continue
            if not updates:
                # A long poll that came back empty at once (a server ignoring `timeout`): wait a
                # little ourselves, so polling never spins a core.
                idle = self.min_poll_gap - (time.monotonic() - asked)
                if idle > 0 and await _sleep_or_stop(stop, idle):
                    break
                continue
            for upd in updates:
                try:
                    await self.process(upd, advance=True)
                except Exception:
                    log.exception("update %s not handled; fetching it again", upd.update_id)
                    await _sleep_or_stop(stop, 1.0)
                    break
                offset = upd.update_id + 1

    def web_app(self, routes: Sequence[BaseRoute] = ()) -> Starlette:
        """The one web app of this bot process: the webhook (when WEBHOOK_URL is set), `/healthz`, then
        `routes` (the passkey pages and other modules' routes), as PTB's custom-webhook example does."""
        own: list[BaseRoute] = []
        if self.settings.webhook_url:
            path = urlsplit(self.settings.webhook_url).path or "/"
            own.append(Route(path, _webhook_endpoint(self, webhook_secret(self.settings)), methods=["POST"]))
        return build_app(self.settings, routes=own, extra_routes=[*routes, *self.routes],
                         health=lambda: {"bot": self.me.username, "handled": self.handled})

    async def run_work(self, work: Callable[[], tuple[T, list[Reply]]]) -> T:
        """Do web-page work on the engine thread (in turn with updates), queue its replies in the
        outbox in the same way a tick's are, and send them; return the work's value to the page."""
        async with self._lock:
            value, replies = await self._call(work)
            if replies:
                await self._call(self.store.record, None, replies, source="web")
        await self._send_soon({r.chat_id for r in replies})
        return value

    async def serve_web(self, stop: asyncio.Event, server: WebServer) -> None:
        """Serve the web app until `stop`; the webhook is registered once it listens."""
        self.webhook_port = server.port
        log.info("web app listening on %s:%s", self.settings.webhook_listen, server.port)
        await server.serve(stop)

    async def serve_webhook(self, stop: asyncio.Event) -> None:
        """Register the webhook (WEBHOOK_URL, secret header) with Telegram, then wait for `stop`: the
        updates arrive as POSTs on the web app."""
        url = self.settings.webhook_url
        secret = webhook_secret(self.settings)
        while True:
            try:
                await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
                break
            except TelegramError as exc:
                log.warning("setWebhook failed: %s", exc)
                if await _sleep_or_stop(stop, 2.0):
                    return
        if self.on_ready is not None:
            self.on_ready(self)
        await stop.wait()

    async def tick_forever(self, stop: asyncio.Event) -> None:
        """Tick until `stop` on the scheduler clock (APScheduler, bot/standing/clock.py): at the next due
        instant of the standing orders, and every `tick_seconds` as a safety net; logs and survives every
        exception. Which process runs an occurrence is the database's call, so several runners may tick."""
        from bot.handlers import standing
        from bot.standing.clock import SchedulerClock

        loop = asyncio.get_running_loop()

        def tick_now(_now: object) -> None:
            try:
                asyncio.run_coroutine_threadsafe(self.tick(), loop).result(timeout=600)
            except Exception:
                log.exception("tick failed; carrying on")

        app = getattr(self.engine, "app", None)
        clock = SchedulerClock((lambda now: standing.next_wake(app, now)) if app is not None else (lambda now: None),
                               tick_now, interval=timedelta(seconds=self.tick_seconds),
                               now=getattr(self.engine, "clock", None))
        clock.start()
        try:
            await stop.wait()
        finally:
            await asyncio.to_thread(clock.stop)

    async def serve(self, stop: asyncio.Event) -> None:
        """Start, serve the web app (when WEBHOOK_URL or PUBLIC_BASE_URL is set or WEB_SERVE is on),
        receive (webhook if WEBHOOK_URL is set, else polling) and tick until `stop`."""
        await self.start()
        try:
            web: asyncio.Future[None] | None = None
            if serves_web(self.settings):
                ctx = WebContext(self.settings, db=getattr(self.engine, "db", None), engine=self.engine,
                                 run=self.run_work, extra={"messenger": "telegram", "transport": self})
                server = WebServer(self.web_app(mounted_routes(ctx) if self.mounts else ()),
                                   self.settings.webhook_listen, self.settings.webhook_port)
                web = asyncio.ensure_future(self.serve_web(stop, server))
            receive = self.serve_webhook if self.settings.webhook_url else self.poll
            ticking = asyncio.ensure_future(self.tick_forever(stop))
            delivering = asyncio.ensure_future(self.outbox_forever(stop))
            try:
                await receive(stop)
            finally:
                stop.set()
                await asyncio.gather(ticking, delivering, *([web] if web else []), return_exceptions=True)
        finally:
            await self.close()


def _webhook_endpoint(transport: Transport, secret: str) -> Callable[[Request], Awaitable[Response]]:
    """Telegram's webhook POSTs: 403 without the secret, 400 for a body that is no update, 200 once handled."""

    async def endpoint(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse({"ok": False, "description": "Forbidden"}, status_code=403)
        try:
            update = Update.de_json(json.loads(await request.body()), transport.bot)
        except (ValueError, TypeError, KeyError):
            return JSONResponse({"ok": False, "description": "Bad Request: not an update"}, status_code=400)
        if update is None:
            return JSONResponse({"ok": False, "description": "Bad Request: not an update"}, status_code=400)
        await transport.process(update, advance=False)
        return JSONResponse({"ok": True})

    return endpoint


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
    routes: Sequence[BaseRoute] = (),
    on_ready: Callable[[Transport], None] | None = None,
    outbox: OutboxPolicy | None = None,
    min_poll_gap: float = 1.0,
    store: TelegramStore | None = None,
    mounts: bool = True,
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
                              tick_seconds=tick_seconds, routes=routes, on_ready=on_ready,
                              outbox=outbox, min_poll_gap=min_poll_gap, store=store, mounts=mounts)
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
