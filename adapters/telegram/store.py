"""The transport's own tables: polling offset, received updates (the inbox any worker takes from), handled ids;
the replies go to the shared outbox (bot/outbox.py)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from bot import deadletters, outbox
from bot.db import create_tables
from bot.events import Reply

log = logging.getLogger("finbot.telegram")

metadata = MetaData()

tg_state = Table(
    "tg_state", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)

tg_handled = Table(
    "tg_handled", metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("handled_at", Float, nullable=False),
)

tg_outbox = Table(
    "tg_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("reply", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("message_id", String(64)),
    Column("created_at", Float, nullable=False),
    Column("chat_id", String(64)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_at", Float, nullable=False, server_default="0"),
    Column("last_error", Text),
)

tg_inbox = Table(
    "tg_inbox", metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("chat_id", String(64), nullable=False, index=True),
    Column("payload", Text, nullable=False),
    Column("lease_until", Float, nullable=False, server_default="0"),
    Column("claimed_by", String(96)),
    Column("received_at", Float, nullable=False),
)

PENDING, SENT, FAILED = outbox.PENDING, outbox.SENT, outbox.FAILED
MOVED = "moved"  # a tg_outbox row of an earlier release, now in outbox_messages

#: Columns added to tg_outbox after its first release, with the DDL type that adds each one.
_ADDED_COLUMNS = {"chat_id": "VARCHAR(64)", "attempts": "INTEGER NOT NULL DEFAULT 0",
                  "next_at": "FLOAT NOT NULL DEFAULT 0", "last_error": "TEXT"}


#: One queued reply as stored (bot/outbox.py): `reply` is None when its payload no longer reads.
OutboxRow = outbox.Queued
encode_reply = outbox.encode_reply
decode_reply = outbox.decode_reply
MESSENGER = "telegram"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL (as the ledger uses: durable, and readers never block the writer) and a busy wait."""
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class TelegramStore:
    """Offsets, handled updates and the outbox in the bot's database (tables prefixed `tg_`)."""

    def __init__(self, url_or_engine: str | Engine) -> None:
        if isinstance(url_or_engine, str):
            self.db = create_engine(url_or_engine)
            if self.db.dialect.name == "sqlite":
                event.listen(self.db, "connect", _sqlite_pragmas)
        else:
            self.db = url_or_engine
        create_tables(metadata, self.db)
        self._add_missing_columns()
        deadletters.ensure(self.db)
        self._fill_chat_ids()
        outbox.ensure(self.db)
        self._move_legacy_outbox()

    def _add_missing_columns(self) -> None:
        """Bring a tg_outbox from an earlier release up to the columns this one reads."""
        have = {c["name"] for c in sa_inspect(self.db).get_columns("tg_outbox")}
        missing = [name for name in _ADDED_COLUMNS if name not in have]
        if not missing:
            return
        with self.db.begin() as conn:
            for name in missing:
                conn.exec_driver_sql(f"ALTER TABLE tg_outbox ADD COLUMN {name} {_ADDED_COLUMNS[name]}")
        log.info("tg_outbox: added columns %s", ", ".join(missing))

    def _fill_chat_ids(self) -> None:
        """Queued rows from before chat_id was a column: take it from their payload (if it reads)."""
        with self.db.begin() as conn:
            rows = conn.execute(select(tg_outbox.c.id, tg_outbox.c.reply).where(
                tg_outbox.c.status == PENDING, tg_outbox.c.chat_id.is_(None))).all()
            for r in rows:
                try:
                    chat = str(json.loads(r.reply)["chat_id"])
                except Exception:  # unreadable: the outbox gives it up when it meets it
                    chat = f"row:{r.id}"
                conn.execute(update(tg_outbox).where(tg_outbox.c.id == r.id).values(chat_id=chat))

    def _move_legacy_outbox(self) -> None:
        """Replies an earlier release queued in tg_outbox move, as stored, to the shared outbox (bot/outbox.py)."""
        with self.db.begin() as conn:
            rows = conn.execute(select(tg_outbox.c.id, tg_outbox.c.source, tg_outbox.c.reply, tg_outbox.c.chat_id,
                                       tg_outbox.c.created_at)
                                .where(tg_outbox.c.status == PENDING).order_by(tg_outbox.c.id)).all()
            if not rows:
                return
            outbox.enqueue_raw(conn, MESSENGER, [
                (str(r.chat_id or f"row:{r.id}"), str(r.source),
                 r.reply if isinstance(r.reply, str) else str(r.reply), float(r.created_at or 0.0)) for r in rows])
            conn.execute(update(tg_outbox).where(tg_outbox.c.id.in_([r.id for r in rows])).values(status=MOVED))
        log.info("tg_outbox: %d queued replies moved to outbox_messages", len(rows))

    def offset(self) -> int:
        """The next update id to ask getUpdates for (0 before the first)."""
        with self.db.connect() as conn:
            value = conn.execute(select(tg_state.c.value).where(tg_state.c.key == "offset")).scalar()
        return int(value) if value is not None else 0

    def is_handled(self, update_id: int) -> bool:
        """Whether this update was handled already (its replies are in the outbox)."""
        with self.db.connect() as conn:
            found = conn.execute(
                select(tg_handled.c.update_id).where(tg_handled.c.update_id == update_id)
            ).first()
        return found is not None

    def record(self, update_id: int | None, replies: list[Reply], *, advance: bool = False,
               source: str | None = None) -> None:
        """In one transaction: the update handled (and out of the inbox), its replies queued, the offset moved."""
        now = time.time()
        with self.db.begin() as conn:
            if update_id is not None:
                conn.execute(insert(tg_handled).values(update_id=update_id, handled_at=now))
                conn.execute(delete(tg_inbox).where(tg_inbox.c.update_id == update_id))
            outbox.enqueue(conn, MESSENGER, replies, source or f"update:{update_id}", now)
            if advance and update_id is not None:
                self._advance(conn, update_id + 1)

    def advance(self, offset: int) -> None:
        """Move the offset forward (never back)."""
        with self.db.begin() as conn:
            self._advance(conn, offset)

    @staticmethod
    def _advance(conn: Any, offset: int) -> None:
        current = conn.execute(select(tg_state.c.value).where(tg_state.c.key == "offset")).scalar()
        if current is None:
            conn.execute(insert(tg_state).values(key="offset", value=str(offset)))
        elif int(current) < offset:
            conn.execute(update(tg_state).where(tg_state.c.key == "offset").values(value=str(offset)))

    # ------------------------------------------------------------------ the inbox (updates any worker may handle)

    def take_in(self, updates: list[tuple[int, str, str]], *, advance_to: int | None = None) -> int:
        """Keep received updates (update id, chat key, the update's JSON) for any worker to handle, skipping
        those kept or handled already, and move the polling offset, in one transaction; how many were new."""
        now = time.time()
        new = 0
        with self.db.begin() as conn:
            ids = [u for u, _, _ in updates]
            seen = set()
            if ids:
                seen = {int(i) for i in conn.execute(select(tg_handled.c.update_id)
                                                     .where(tg_handled.c.update_id.in_(ids))).scalars()}
                seen |= {int(i) for i in conn.execute(select(tg_inbox.c.update_id)
                                                      .where(tg_inbox.c.update_id.in_(ids))).scalars()}
            for update_id, chat, payload in updates:
                if update_id in seen:
                    continue
                seen.add(update_id)
                ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(tg_inbox)
                moved = conn.execute(ins.values(update_id=update_id, chat_id=chat, payload=payload,
                                                lease_until=0.0, received_at=now)
                                     .on_conflict_do_nothing(index_elements=["update_id"])).rowcount
                new += int(moved == 1)
            if advance_to is not None:
                self._advance(conn, advance_to)
        return new

    def claim_updates(self, worker: str, *, limit: int = 8, lease_seconds: float = 60.0,
                      update_id: int | None = None) -> list[tuple[int, str]]:
        """Updates to handle, leased to `worker`: the oldest unhandled update of each chat (a chat's updates are
        handled in update order, by one worker at a time), locked with SKIP LOCKED on PostgreSQL."""
        now = time.time()
        i = tg_inbox
        earlier = tg_inbox.alias("earlier")
        q = (select(i.c.update_id).where(
            i.c.lease_until <= now,
            ~exists().where(earlier.c.chat_id == i.c.chat_id, earlier.c.update_id < i.c.update_id))
            .order_by(i.c.update_id).limit(limit))
        if update_id is not None:
            q = q.where(i.c.update_id == update_id)
        with self.db.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")  # a lease is soft state
                q = q.with_for_update(skip_locked=True, of=tg_inbox)
            ids = [int(x) for x in conn.execute(q).scalars()]
            if not ids:
                return []
            until = now + lease_seconds
            conn.execute(update(i).where(i.c.update_id.in_(ids), i.c.lease_until <= now)
                         .values(lease_until=until, claimed_by=worker[:96]))
            rows = conn.execute(select(i.c.update_id, i.c.payload).where(
                i.c.update_id.in_(ids), i.c.claimed_by == worker[:96], i.c.lease_until == until)
                .order_by(i.c.update_id)).all()
        return [(int(r.update_id), str(r.payload)) for r in rows]

    def unlease_update(self, update_id: int) -> None:
        """Give an update back to the inbox (its handling failed here; another try may succeed)."""
        with self.db.begin() as conn:
            conn.execute(update(tg_inbox).where(tg_inbox.c.update_id == update_id).values(lease_until=0.0))

    def inbox_depth(self) -> int:
        """How many received updates wait to be handled."""
        with self.db.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(tg_inbox)).scalar() or 0)

    def release(self, worker: str) -> None:
        """Give up every lease `worker` holds, in the inbox and the outbox (a worker restarting under its name)."""
        with self.db.begin() as conn:
            conn.execute(update(tg_inbox).where(tg_inbox.c.claimed_by == worker[:96]).values(lease_until=0.0))
        outbox.release(self.db, worker)

    # ------------------------------------------------------------------ the outbox (bot/outbox.py)

    def queue(self, chat_id: str | None = None) -> list[OutboxRow]:
        """Replies not yet sent nor given up (of one chat, or all), oldest first; one whose payload
        does not read is returned with `reply=None` and the reason, never raised."""
        return outbox.queue(self.db, MESSENGER, chat_id)

    def pending(self) -> list[tuple[int, Reply]]:
        """Replies not yet sent whose payload reads, oldest first."""
        return [(row.id, row.reply) for row in self.queue() if row.reply is not None]

    def claim(self, worker: str, *, chat: str | None = None, limit: int = 1,
              lease_seconds: float = 60.0) -> list[OutboxRow]:
        """The oldest due reply of `chat` (or of each chat), leased to `worker` (bot/outbox.py's claim)."""
        return outbox.claim(self.db, MESSENGER, worker, limit=limit, lease_seconds=lease_seconds, chat=chat)

    def renew(self, row_id: int, worker: str, lease_seconds: float) -> bool:
        """Keep `worker`'s lease on a claimed reply while it is sent; False when it is not this worker's any more."""
        return outbox.renew(self.db, row_id, worker, lease_seconds=lease_seconds)

    def mark(self, row_id: int, status: str, message_id: str | None = None) -> None:
        """Record what became of one queued reply (sent with its message id, or failed)."""
        if status == SENT:
            outbox.mark_sent(self.db, row_id, message_id)
            return
        with self.db.begin() as conn:
            conn.execute(update(outbox.messages).where(outbox.messages.c.id == row_id)
                         .values(status=status, message_id=message_id, lease_until=0.0))

    def retry_later(self, row_id: int, attempts: int, next_at: float, error: str) -> None:
        """A reply that failed in a way worth retrying: count the try, and when to try again."""
        outbox.retry_later(self.db, row_id, attempts, next_at, error)

    def dead_letter(self, row: OutboxRow, error: str, attempts: int) -> None:
        """Give up on a reply: out of the queue and into the dead letters, in one transaction."""
        reply = row.reply
        summary = _summary(reply) if reply is not None else row.payload[:deadletters.SUMMARY_LIMIT]
        outbox.give_up(self.db, row, error, attempts, summary)

    def dead_letters(self, limit: int = 100) -> list[deadletters.DeadLetter]:
        """The newest dead letters first (for tests and the operator)."""
        with self.db.connect() as conn:
            return deadletters.recent(conn, limit)

    def counts(self) -> dict[str, int]:
        """Outbox rows by status (for tests and the operator)."""
        return outbox.counts(self.db, MESSENGER)

    def prune(self, keep_seconds: float = 7 * 86400) -> None:
        """Forget handled ids and finished outbox rows older than `keep_seconds`."""
        cutoff = time.time() - keep_seconds
        with self.db.begin() as conn:
            conn.execute(delete(tg_handled).where(tg_handled.c.handled_at < cutoff))
        outbox.prune(self.db, cutoff)

    def due_chats(self, now: float) -> list[str]:
        """The chats with a queued reply that may be tried now."""
        return outbox.due_chats(self.db, MESSENGER, now)

    def next_due(self, after: float = 0.0) -> float | None:
        """When the earliest queued reply waiting past `after` may be tried again (epoch seconds)."""
        return outbox.next_due(self.db, MESSENGER, after)

    def close(self) -> None:
        """Release the database connections."""
        self.db.dispose()


def _summary(reply: Reply) -> str:
    """A reply in a few words for an operator: its text, or what it carries."""
    what = reply.text.replace("\n", " ").strip()
    if not what:
        what = (reply.document.filename if reply.document else reply.photo.filename if reply.photo
                else f"message {reply.target_message_id}" if reply.target_message_id else "")
    return what[:deadletters.SUMMARY_LIMIT]
