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

from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import BotCommand, Update
from telegram.error import ChatMigrated, InvalidToken, TelegramError
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from adapters.telegram.convert import BotIdentity, to_event
from adapters.telegram.flood import FloodLimits, flood_limiter
from adapters.telegram.outbox import OutboxPolicy, describe, retry_in
from adapters.telegram.render import render
from adapters.telegram.store import SENT, OutboxRow, TelegramStore
from adapters.web.app import WebContext, WebServer, build_app, mounted_routes, serves_web
from bot import metrics
from bot.claims import Leadership, try_lock, worker_name
from bot.config import Settings
from bot.crash import crash_point
from bot.events import Event, Reply, ReplyKind

#: how long a kick waits for others to join it (replies an update queued in chats other than its own)
KICK_COALESCE_SECONDS = 0.05

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


def chat_key(update: Update) -> str:
    """The chat an update belongs to (its updates are handled one at a time, in update order)."""
    if update.effective_chat is not None:
        return str(update.effective_chat.id)
    if update.effective_user is not None:
        return str(update.effective_user.id)
    return f"update:{update.update_id}"


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
        rate_limiter=flood_limiter(settings, limits),
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
        worker: str | None = None,
    ) -> None:
        self.settings = settings
        self.worker = worker or worker_name()
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
        self._io = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="finbot-io")
        self._lock = asyncio.Lock()
        self.me = BotIdentity(0, "")
        self.handled = 0
        self.webhook_port: int | None = None
        self.on_ready = on_ready
        self._unrecorded: dict[int, list[Reply]] = {}
        self._chat_tasks: dict[str, asyncio.Task[None]] = {}
        self._jobs: set[asyncio.Future[None]] = set()
        self._kick_pending = False
        self._last_kick = 0.0
        self._inbox_kick = asyncio.Event()
        self.leader = Leadership(self.settings.database_url)

    @property
    def store(self) -> TelegramStore:
        """The transport's tables (opened on start, in the engine's thread)."""
        assert self._store is not None, "transport not started"
        return self._store

    async def _io_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run the transport's own database work (inbox, outbox) on its I/O threads, beside the engine's."""
        return await asyncio.get_running_loop().run_in_executor(
            self._io, functools.partial(fn, *args, **kwargs))

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking engine/database work on the one engine thread, in order."""
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, functools.partial(fn, *args, **kwargs))

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Connect, learn who the bot is, set the command menus, send what a crash left unsent."""
        if self._store is None:
            self._store = await self._call(TelegramStore, self.settings.database_url)
        use_outbox = getattr(self.engine, "use_outbox", None)
        if use_outbox is not None:  # the engine writes replies in its own transactions (bot/outbox.py)
            await self._call(use_outbox, "telegram")
        await self._call(self.store.release, self.worker)
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
            self._io.shutdown(wait=True)
            self.leader.close()

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
        """Take one update in and handle it here when it is its chat's turn: kept in the inbox first
        (so any worker may handle it), then handled exactly once. Waits for its own handling (at most
        `OutboxPolicy.wait_seconds` when another worker or an earlier update of the chat holds it)."""
        uid = update.update_id
        await self._io_call(self.store.take_in, [(uid, chat_key(update), json.dumps(update.to_dict()))],
                         advance_to=uid + 1 if advance else None)
        deadline = time.monotonic() + self.outbox.wait_seconds
        while True:
            claimed = await self._io_call(self.store.claim_updates, self.worker, update_id=uid, limit=1,
                                       lease_seconds=self.outbox.lease_seconds)
            if claimed:
                await self._handle_claimed(update)
                return
            if await self._io_call(self.store.is_handled, uid) or time.monotonic() > deadline:
                self._inbox_kick.set()
                return
            await asyncio.sleep(0.02)

    async def handle_inbox(self, limit: int = 2) -> int:
        """Handle updates waiting in the inbox whose chat's turn it is (taken with a lease); how many."""
        claimed = await self._io_call(self.store.claim_updates, self.worker, limit=limit,
                                   lease_seconds=self.outbox.lease_seconds)
        for _uid, payload in claimed:
            update = Update.de_json(json.loads(payload), self.bot)
            await self._handle_claimed(update)
        return len(claimed)

    async def inbox_forever(self, stop: asyncio.Event) -> None:
        """Handle what the inbox holds until `stop`: updates this worker took in, or any other did."""
        while not stop.is_set():
            try:
                if await self.handle_inbox():
                    continue
            except Exception:
                log.exception("inbox task failed; carrying on")
            self._inbox_kick.clear()
            waiter = asyncio.ensure_future(self._inbox_kick.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=self.outbox.inbox_idle_seconds,
                               return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()

    async def _handle_claimed(self, update: Update) -> None:
        """Handle one update this worker holds the lease of: engine, then replies queued with the update
        id (a second worker that handled it meanwhile wins: nothing is queued twice), then sent."""
        started = time.perf_counter()
        async with self._lock:
            if await self._io_call(self.store.is_handled, update.update_id):
                return
            replies = self._unrecorded.get(update.update_id)
            if replies is None:
                event = to_event(update, self.me, datetime.now(UTC))
                replies = await self._handle(event) if event is not None else []
                self._unrecorded[update.update_id] = replies
            cq = update.callback_query
            queued = bool(getattr(self.engine, "queues_replies", False))
            if cq is not None and not queued and not any(
                r.kind is ReplyKind.answer_press and r.press_id == cq.id for r in replies
            ):
                chat_id = str(cq.message.chat.id) if cq.message else str(cq.from_user.id)
                replies.append(Reply(ReplyKind.answer_press, chat_id, press_id=cq.id))
            crash_point("before_update_recorded")
            try:
                await self._io_call(self.store.record, update.update_id, replies)
            except IntegrityError:
                log.warning("update %s was handled by another worker meanwhile", update.update_id)
                replies = []
            finally:
                self._unrecorded.pop(update.update_id, None)
            self.handled += 1
            metrics.updates_handled(time.perf_counter() - started)
        self._inbox_kick.set()
        chats = {r.chat_id for r in replies}
        if queued:  # the engine queued its replies itself: deliver in the update's chat now, the others soon
            chats.add(chat_key(update))
            self._kick_soon()
        await self._send_soon(chats)

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
                replies = list(await self._call(self._tick_once))
            except Exception:
                log.exception("engine tick failed")
                return
            if replies:
                await self._io_call(self.store.record, None, replies, source="tick")
        if getattr(self.engine, "queues_replies", False):
            await self.kick()
        await self._send_soon({r.chat_id for r in replies})

    def _tick_once(self) -> list[Reply]:
        """The engine's tick, run by one worker at a time (the others skip this round)."""
        with try_lock(self.store.db, "finbot:tick") as mine:
            if not mine:
                return []
            return list(self.engine.tick())

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
            chats = await self._io_call(self.store.due_chats, time.time())
        except Exception:
            log.exception("cannot read the outbox; trying again in %.1f s", self.outbox.idle_seconds)
            return
        for chat in chats:
            task = self._chat_tasks.get(chat)
            if task is None or task.done():
                self._start_chat(chat)

    def _kick_soon(self) -> None:
        """A `kick` now, or, when one ran within KICK_COALESCE_SECONDS, once that time is up: under load (a kick
        asked for by every handled update) the kicks asked for meanwhile become one look at the due chats."""
        if self._kick_pending:
            return
        wait = self._last_kick + KICK_COALESCE_SECONDS - time.monotonic()
        self._kick_pending = True

        async def later() -> None:
            try:
                if wait > 0:
                    await asyncio.sleep(wait)
            finally:
                self._kick_pending = False
                self._last_kick = time.monotonic()
            await self.kick()

        job = asyncio.ensure_future(later())
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

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
        """Send one chat's queue in order until its end or a head that must wait (a retry, or another
        worker's lease): each reply is claimed first, so no two workers send the same one."""
        while True:
            rows = await self._io_call(self.store.claim, self.worker, chat=chat, limit=1,
                                    lease_seconds=self.outbox.lease_seconds)
            if not rows:
                return
            row = rows[0]
            claimed_at = time.monotonic()
            if row.reply is None:
                await self._give_up(row, row.problem or "unreadable", row.attempts)
                continue
            if not await self._deliver(row, claimed_at):
                return

    async def _deliver(self, row: OutboxRow, claimed_at: float | None = None) -> bool:
        """Try one reply once: True when it is settled (sent or given up), False to retry later. `claimed_at`
        (monotonic): when its lease was taken, if just now (then the lease is renewed only once the send lasts)."""
        assert row.reply is not None
        reply = row.reply
        attempts = row.attempts + 1
        for _ in range(3):
            try:
                held, message_id = await self._send_leased(row, reply, claimed_at)
                claimed_at = None
                if not held:
                    log.warning("reply %s (outbox row %d) to chat %s is another worker's now (this worker's lease ran "
                                "out before it was sent): not sent here", reply.kind.value, row.id, reply.chat_id)
                    return True
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
                await self._io_call(self.store.retry_later, row.id, attempts, time.time() + wait,
                                 describe(exc))
                return False
            crash_point("before_outbox_mark")
            await self._io_call(self.store.mark, row.id, SENT, message_id)
            metrics.reply_sent(reply.kind.value)
            if reply.ref and message_id and reply.kind is ReplyKind.message:
                try:
                    await self._io_call(self.engine.message_sent, reply.ref, reply.chat_id, message_id)  # its own session: off the engine thread
                except Exception:
                    log.exception("engine.message_sent failed for %s", reply.ref)
            return True
        await self._give_up(row, f"chat {row.chat_id} kept migrating", attempts)
        return True

    async def _send_leased(self, row: OutboxRow, reply: Reply, claimed_at: float | None) -> tuple[bool, str | None]:
        """Send one claimed reply while holding its lease: renewed just before the call (the fence: a lease that
        ran out meanwhile, e.g. in a long stall, and was claimed by another worker is not sent here) and every
        third of the lease while the call (and the flood limiter's waits in it) lasts. (held, message id): held is
        False when it was not this worker's to send (then nothing was sent)."""
        lease = self.outbox.lease_seconds
        fresh = claimed_at is not None and time.monotonic() - claimed_at < lease / 3
        if not fresh and not await self._io_call(self.store.renew, row.id, self.worker, lease):
            return False, None
        beat = asyncio.ensure_future(self._keep_lease(row.id, lease))
        try:
            return True, await render(self.bot, reply, self.me.username)
        finally:
            beat.cancel()

    async def _keep_lease(self, row_id: int, lease: float) -> None:
        while True:
            await asyncio.sleep(lease / 3)
            try:
                if not await self._io_call(self.store.renew, row_id, self.worker, lease):
                    log.warning("lost the lease of outbox row %d while sending it", row_id)
                    return
            except Exception:
                log.exception("cannot renew the lease of outbox row %d", row_id)

    async def _give_up(self, row: OutboxRow, error: str, attempts: int) -> None:
        """Move a reply to the dead letters (logged; `/admin deadletters` lists them)."""
        kind = row.reply.kind.value if row.reply is not None else "?"
        log.error("reply %s (outbox row %d, %s) to chat %s is a dead letter after %d tries: %s",
                  kind, row.id, row.source, row.chat_id, attempts, error)
        await self._io_call(self.store.dead_letter, row, error, attempts)
        metrics.dead_letter()

    async def outbox_forever(self, stop: asyncio.Event) -> None:
        """Retry due replies in the background until `stop`; logs and survives every exception."""
        while not stop.is_set():
            try:
                await self.kick()
                due = await self._io_call(self.store.next_due, time.time())
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
        """Long polling from the stored offset until `stop`, by one worker only (the one holding the poller
        lock; the others wait to take over). Each batch is kept in the inbox and the offset moved past it in
        one transaction; every worker then handles the inbox (`inbox_forever`)."""
        announced = False
        polling = False
        failures = 0
        while not stop.is_set():
            if not await self._io_call(self.leader.acquire):
                polling = False
                if not announced and self.on_ready is not None:
                    self.on_ready(self)
                    announced = True
                if await _sleep_or_stop(stop, self.outbox.leader_retry_seconds):
                    break
                continue
            if not polling:
                await self.bot.delete_webhook(drop_pending_updates=False)
                offset = await self._io_call(self.store.offset)
                polling = True
                log.info("worker %s is polling Telegram from offset %d", self.worker, offset)
                if not announced and self.on_ready is not None:
                    self.on_ready(self)
                    announced = True
            if await self._wait_for_room(stop):
                return
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
            try:
                await self._io_call(self.store.take_in,
                                 [(u.update_id, chat_key(u), json.dumps(u.to_dict())) for u in updates],
                                 advance_to=updates[-1].update_id + 1)
            except Exception:
                log.exception("updates %s..%s not kept; fetching them again", updates[0].update_id,
                              updates[-1].update_id)
                await _sleep_or_stop(stop, 1.0)
                continue
            offset = updates[-1].update_id + 1
            self._inbox_kick.set()

    async def _wait_for_room(self, stop: asyncio.Event) -> bool:
        """Before fetching more: wait until at most `max_inbox` updates wait in the inbox (0: the batch taken is
        handled, so the offset Telegram sees moves only past handled updates) and this worker's own sending
        has had `wait_seconds`; True if `stop` came meanwhile."""
        while (await self._io_call(self.store.inbox_depth)) > self.outbox.max_inbox or (
                self.outbox.max_inbox == 0 and self._lock.locked()):
            if await _sleep_or_stop(stop, 0.01):
                return True
        running = [j for j in self._jobs if not j.done()]
        if running and self.outbox.max_inbox == 0:
            await asyncio.wait(running, timeout=self.outbox.wait_seconds)
        return stop.is_set()

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
        chats = {r.chat_id for r in replies}
        if getattr(self.engine, "queues_replies", False):
            # the engine queued the work's replies itself (the transactional outbox): deliver what is due now
            chats |= set(await self._io_call(self.store.due_chats, time.time()))
        await self._send_soon(chats)
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
                                   self.settings.webhook_listen, self.settings.webhook_port,
                                   reuse_port=self.settings.workers > 1)
                web = asyncio.ensure_future(self.serve_web(stop, server))
            receive = self.serve_webhook if self.settings.webhook_url else self.poll
            ticking = asyncio.ensure_future(self.tick_forever(stop))
            delivering = asyncio.ensure_future(self.outbox_forever(stop))
            handling = asyncio.ensure_future(self.inbox_forever(stop))
            try:
                await receive(stop)
            finally:
                stop.set()
                await asyncio.gather(ticking, delivering, handling, *([web] if web else []),
                                     return_exceptions=True)
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
