"""The engine: the facade every adapter talks to. One event in, replies out, through the bus's rooms.

The unit of work lives in `Engine.handle`: one session (`Ctx.s`) per event, the event id recorded first
(so a redelivered event does nothing), the rooms' handlers run on it (`bot.handlers.text.route`), then one
commit; work that must follow the commit (executions, broker calls) runs from `c.after` once it is done.
A handler that needs the ledger first commits the engine's own work (`bot.uow.ledger`).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import commands, intake, uow
from bot.actions import AWAITING, attempt_id
from bot.app import App, build_app
from bot.bus import ROOMS, Bus
from bot.config import Settings
from bot.context import Ctx
from bot.directory import Directory, owner_of
from bot.events import Event, Person, Reply, ReplyKind
from bot.execution import Executor
from bot.funding import FundingPort
from bot.handlers import pin, text
from bot.handlers.replies import sent_you
from bot.handlers.slots import intent_from_dict
from bot.handlers.tokens import press_token
from bot.i18n import normalize_lang, t
from bot.models import ProcessedEvent, SentMessage
from bot.policy import Policy
from bot.stepup import StepUp
from ledger import Ledger
from ledger.db import DEFER_SYNC, defer_durability, flush_wal

log = logging.getLogger("finbot.engine")

__all__ = ["AWAITING", "Ctx", "Engine", "attempt_id", "intent_from_dict", "load_bus", "press_token", "sent_you"]


def load_bus(rooms: tuple[str, ...] = ROOMS) -> Bus:
    """A bus with every room of `rooms` registered, in that order (bot/bus.py lists them)."""
    bus = Bus()
    for name in rooms:
        importlib.import_module(name).register(bus)
    return bus


class Engine:
    """Turns events into replies; the only path from a chat message to the ledger or the broker."""

    def __init__(
        self,
        *,
        db: sa.Engine,
        ledger: Ledger,
        settings: Settings,
        funding: FundingPort,
        clock: Callable[[], datetime] | None = None,
        messenger: str = "local",
        broker: Any = None,
        instruments: Any = None,
        rates: Any = None,
        app: App | None = None,
    ) -> None:
        self.app = app or build_app(db=db, ledger=ledger, settings=settings, funding=funding, bus=load_bus(),
                                    clock=clock, messenger=messenger, broker=broker, instruments=instruments,
                                    rates=rates)

    # the App's ports and services, as the engine's attributes adapters and tests read
    @property
    def db(self) -> sa.Engine:
        return self.app.db

    @property
    def ledger(self) -> Ledger:
        return self.app.ledger

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.app.clock

    @property
    def messenger(self) -> str:
        return self.app.messenger

    @property
    def directory(self) -> Directory:
        return self.app.directory

    @property
    def stepup(self) -> StepUp:
        return self.app.stepup

    @property
    def policy(self) -> Policy:
        return self.app.policy

    @property
    def executor(self) -> Executor:
        return self.app.executor

    @property
    def broker(self) -> Any:
        return self.app.broker

    @property
    def instruments(self) -> Any:
        return self.app.instruments

    @property
    def bus(self) -> Bus:
        return self.app.bus

    # ------------------------------------------------------------------ public surface

    def handle(self, ev: Event) -> list[Reply]:
        """Handle one event exactly once; a redelivered event (same id) returns no replies."""
        app = self.app
        refused = intake.has_nul_text(ev)
        ev = intake.clean(ev)
        now = app.clock()
        ctx: Ctx | None = None
        answered = False
        relabel: list[tuple[int, str]] = []
        sqlite_defer = False
        try:
            pins = pin.verify_early(app, ev)  # before the write lock: see its docstring
            # A right PIN usually hands an execution to an after-job, whose ledger and record commits are
            # durable and come later in the same WAL: this event's own commit need not wait for its fsync
            # (ledger.db.defer_durability). SQLite decides when the transaction begins; a flush follows below.
            sqlite_defer = app.db.dialect.name == "sqlite" and any(pins.values())
            with Session(app.db, expire_on_commit=False) as s:
                if sqlite_defer:
                    s.connection(execution_options={DEFER_SYNC: True})
                s.add(ProcessedEvent(messenger=ev.chat.messenger, event_id=ev.event_id, at=now))
                try:
                    s.flush()
                except IntegrityError:
                    return []
                user = app.directory.user_for(s, ev.sender, now)
                if user.handle and user.handle in app.operators:
                    user.is_operator = True
                chat = app.directory.chat_row(s, ev)
                ctx = Ctx(s=s, ev=ev, user=user, chat=chat, now=now, pins=pins)
                self._observe(ctx)
                if refused:
                    ctx.say(t(ctx.lang, "Your message has a hidden control character (a NUL byte) that I can't read, "
                                        "so I did nothing with it. Please type it again."))
                else:
                    text.route(app, ctx)
                relabel = list(s.info.get("relabelled", []))
                if ctx.after and app.db.dialect.name == "postgresql":
                    defer_durability(s.connection())  # the execution's commits flush it
                answered = bool(s.info.get("press_answered")) or any(r.kind is ReplyKind.answer_press for r in ctx.replies)
                if app.outbox is not None and ev.press is not None and not answered and not ctx.after:
                    # a press is answered once (Telegram refuses a second answer): here, unless an after-job may
                    answered = True
                    ctx.replies.append(Reply(ReplyKind.answer_press, ev.chat.chat_id, press_id=ev.press.press_id))
                ctx.replies[:] = uow.queue(app, s, ctx.replies, f"event:{ev.event_id}")
                s.commit()
        except Exception:
            log.exception("event %s failed", ev.event_id)
            return self._failure(ev, ctx.lang if ctx is not None else None)
        replies = list(ctx.replies)
        for user_id, label in relabel:
            app.ledger.set_label(owner_of(user_id), label)
            app.executor.forget(user_id)
        for job in ctx.after:
            replies.extend(job())
        if app.outbox is not None and ev.press is not None and ctx.after and not answered and not any(
                r.kind is ReplyKind.answer_press for r in replies):
            replies.append(Reply(ReplyKind.answer_press, ev.chat.chat_id, press_id=ev.press.press_id))
        if sqlite_defer:
            flush_wal(app.db)  # durable before anyone is told (a no-op fsync when the record's commit did it)
        return replies

    @staticmethod
    def _failure(ev: Event, lang: str | None) -> list[Reply]:
        """The answer to an event whose handling failed (and so changed nothing)."""
        text = t(lang or normalize_lang(ev.sender.lang), "Sorry, something went wrong on my side. Nothing was changed; please try again.")
        if ev.press is not None:
            return [Reply(ReplyKind.answer_press, ev.chat.chat_id, text, press_id=ev.press.press_id, alert=True)]
        return [Reply(ReplyKind.message, ev.chat.chat_id, text)]

    def message_sent(self, ref: str, chat_id: str, message_id: str) -> None:
        """Remember the messenger's id of a message the engine named (to edit it later)."""
        with Session(self.app.db) as s:
            row = s.get(SentMessage, ref)
            if row is None:
                s.add(SentMessage(ref=ref, chat_id=chat_id, message_id=message_id))
            else:
                row.chat_id, row.message_id = chat_id, message_id
            s.commit()

    def set_operator(self, messenger: str, external_id: str, handle: str | None = None) -> None:
        """Make someone an operator (as listing them in FINBOT_OPERATORS does)."""
        with Session(self.app.db, expire_on_commit=False) as s:
            user = self.app.directory.user_for(s, Person(messenger, external_id, handle=handle), self.app.clock())
            user.is_operator = True
            s.commit()

    @property
    def queues_replies(self) -> bool:
        """Whether the engine writes its replies to the outbox itself (then `handle` and `tick` return only
        what could not be queued, e.g. the apology for an event whose transaction failed)."""
        return self.app.outbox is not None

    def use_outbox(self, messenger: str) -> None:
        """Write every reply to the outbox (bot/outbox.py), for `messenger`'s sender, in the transaction of the
        change it reports: a crash then loses or invents no reply."""
        from bot import outbox

        outbox.ensure(self.app.db)
        self.app.outbox = messenger

    def bot_commands(self, lang: str) -> list[tuple[str, str]]:
        """The command menu in one language."""
        return commands.menu(lang)

    def tick(self) -> list[Reply]:
        """Due work, each room's in the bus's order: expire cards, finish interrupted executions, return
        escrow, run schedules, expire ledger holds, poll the broker."""
        now = self.app.clock()
        replies: list[Reply] = []
        for job in self.app.bus.ticks:
            replies += job(self.app, now)
        return replies

    # ------------------------------------------------------------------ intake

    def _observe(self, c: Ctx) -> None:
        """Learn who is in the chat and who is mentioned: handles, ids, membership."""
        app = self.app
        if c.private:
            c.user.private_chat_id = c.ev.chat.chat_id
        app.directory.note_member(c.s, c.chat, c.user)
        joined = []
        for person in c.ev.members:
            member = app.directory.user_for(c.s, person, c.now)
            app.directory.note_member(c.s, c.chat, member)
            joined.append(member)
        for mention in c.ev.entities:
            if mention.person is not None:
                app.directory.user_for(c.s, mention.person, c.now)
        if c.ev.reply_to is not None and c.ev.reply_to.author is not None:
            other = app.directory.user_for(c.s, c.ev.reply_to.author, c.now)
            app.directory.note_member(c.s, c.chat, other)
        if joined:
            for hook in app.bus.members:
                hook(app, c, joined)
        gone = [app.directory.user_for(c.s, person, c.now) for person in c.ev.left]
        if gone:
            for hook in app.bus.left:
                hook(app, c, gone)
