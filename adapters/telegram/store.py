"""The transport's own tables: polling offset, handled update ids and the outbox of replies still to send."""

from __future__ import annotations

import base64
import json
import logging
import time
from dataclasses import dataclass
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
    func,
    insert,
    select,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine

from bot import deadletters
from bot.events import Attachment, Button, Reply, ReplyKind

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

PENDING, SENT, FAILED = "pending", "sent", "failed"

#: Columns added to tg_outbox after its first release, with the DDL type that adds each one.
_ADDED_COLUMNS = {"chat_id": "VARCHAR(64)", "attempts": "INTEGER NOT NULL DEFAULT 0",
                  "next_at": "FLOAT NOT NULL DEFAULT 0", "last_error": "TEXT"}


@dataclass(frozen=True)
class OutboxRow:
    """One queued reply as stored: `reply` is None when its payload no longer reads (`problem` says why)."""

    id: int
    source: str
    chat_id: str
    payload: str
    reply: Reply | None
    problem: str | None
    attempts: int
    next_at: float


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL (as the ledger uses: durable, and readers never block the writer) and a busy wait."""
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def encode_reply(reply: Reply) -> str:
    """A reply as JSON text (attachments in base64) for the outbox."""
    def attachment(a: Attachment | None) -> dict[str, str] | None:
        if a is None:
            return None
        return {"filename": a.filename, "mime": a.mime, "content": base64.b64encode(a.content).decode()}

    return json.dumps({
        "kind": reply.kind.value, "chat_id": reply.chat_id, "text": reply.text,
        "buttons": [[[b.label, b.data, b.start_payload, b.url, b.web_app] for b in row] for row in reply.buttons],
        "photo": attachment(reply.photo), "document": attachment(reply.document),
        "ref": reply.ref, "target_message_id": reply.target_message_id, "press_id": reply.press_id,
        "alert": reply.alert, "meta": reply.meta,
    }, ensure_ascii=False)


def decode_reply(text: str) -> Reply:
    """The reply `encode_reply` stored."""
    d: dict[str, Any] = json.loads(text)

    def attachment(a: dict[str, str] | None) -> Attachment | None:
        if a is None:
            return None
        return Attachment(a["filename"], base64.b64decode(a["content"]), a["mime"])

    return Reply(
        kind=ReplyKind(d["kind"]), chat_id=d["chat_id"], text=d["text"],
        buttons=tuple(tuple(Button(*b) for b in row) for row in d["buttons"]),
        photo=attachment(d["photo"]), document=attachment(d["document"]), ref=d["ref"],
        target_message_id=d["target_message_id"], press_id=d["press_id"], alert=d["alert"],
        meta=dict(d["meta"]),
    )


class TelegramStore:
    """Offsets, handled updates and the outbox in the bot's database (tables prefixed `tg_`)."""

    def __init__(self, url_or_engine: str | Engine) -> None:
        if isinstance(url_or_engine, str):
            self.db = create_engine(url_or_engine)
            if self.db.dialect.name == "sqlite":
                event.listen(self.db, "connect", _sqlite_pragmas)
        else:
            self.db = url_or_engine
        metadata.create_all(self.db)
        self._add_missing_columns()
        deadletters.ensure(self.db)
        self._fill_chat_ids()

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
        """In one transaction: the update handled, its replies queued, the offset moved past it."""
        now = time.time()
        with self.db.begin() as conn:
            if update_id is not None:
                conn.execute(insert(tg_handled).values(update_id=update_id, handled_at=now))
            if replies:
                conn.execute(insert(tg_outbox), [
                    {"source": source or f"update:{update_id}", "reply": encode_reply(r),
                     "status": PENDING, "created_at": now, "chat_id": str(r.chat_id),
                     "attempts": 0, "next_at": 0.0} for r in replies])
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

    def queue(self, chat_id: str | None = None) -> list[OutboxRow]:
        """Replies not yet sent nor given up (of one chat, or all), oldest first; one whose payload
        does not read is returned with `reply=None` and the reason, never raised."""
        query = (select(tg_outbox.c.id, tg_outbox.c.source, tg_outbox.c.reply, tg_outbox.c.chat_id,
                        tg_outbox.c.attempts, tg_outbox.c.next_at)
                 .where(tg_outbox.c.status == PENDING).order_by(tg_outbox.c.id))
        if chat_id is not None:
            query = query.where(tg_outbox.c.chat_id == chat_id)
        with self.db.connect() as conn:
            rows = conn.execute(query).all()
        out = []
        for r in rows:
            payload = r.reply if isinstance(r.reply, str) else str(r.reply)
            reply: Reply | None = None
            problem: str | None = None
            try:
                reply = decode_reply(payload)
            except Exception as exc:  # a row from another release, or damaged: never fatal
                problem = f"payload does not read: {type(exc).__name__}: {exc}"
            chat = r.chat_id or (reply.chat_id if reply is not None else f"row:{r.id}")
            out.append(OutboxRow(int(r.id), str(r.source), str(chat), payload, reply, problem,
                                 int(r.attempts or 0), float(r.next_at or 0.0)))
        return out

    def pending(self) -> list[tuple[int, Reply]]:
        """Replies not yet sent whose payload reads, oldest first."""
        return [(row.id, row.reply) for row in self.queue() if row.reply is not None]

    def mark(self, row_id: int, status: str, message_id: str | None = None) -> None:
        """Record what became of one queued reply (sent with its message id, or failed)."""
        with self.db.begin() as conn:
            conn.execute(update(tg_outbox).where(tg_outbox.c.id == row_id)
                         .values(status=status, message_id=message_id))

    def retry_later(self, row_id: int, attempts: int, next_at: float, error: str) -> None:
        """A reply that failed in a way worth retrying: count the try, and when to try again."""
        with self.db.begin() as conn:
            conn.execute(update(tg_outbox).where(tg_outbox.c.id == row_id)
                         .values(attempts=attempts, next_at=next_at, last_error=error[:500]))

    def dead_letter(self, row: OutboxRow, error: str, attempts: int) -> None:
        """Give up on a reply: out of the queue and into the dead letters, in one transaction."""
        reply = row.reply
        with self.db.begin() as conn:
            conn.execute(update(tg_outbox).where(tg_outbox.c.id == row.id)
                         .values(status=FAILED, attempts=attempts, last_error=error[:500]))
            deadletters.add(
                conn, messenger="telegram", source=row.source, outbox_id=row.id,
                chat_id=reply.chat_id if reply is not None else (row.chat_id or None),
                kind=reply.kind.value if reply is not None else None,
                summary=_summary(reply) if reply is not None else row.payload[:deadletters.SUMMARY_LIMIT],
                payload=row.payload, error=error, attempts=attempts)

    def dead_letters(self, limit: int = 100) -> list[deadletters.DeadLetter]:
        """The newest dead letters first (for tests and the operator)."""
        with self.db.connect() as conn:
            return deadletters.recent(conn, limit)

    def counts(self) -> dict[str, int]:
        """Outbox rows by status (for tests and the operator)."""
        with self.db.connect() as conn:
            rows = conn.execute(select(tg_outbox.c.status, func.count()).group_by(tg_outbox.c.status)).all()
        return {str(s): int(n) for s, n in rows}

    def prune(self, keep_seconds: float = 7 * 86400) -> None:
        """Forget handled ids and finished outbox rows older than `keep_seconds`."""
        cutoff = time.time() - keep_seconds
        with self.db.begin() as conn:
            conn.execute(delete(tg_handled).where(tg_handled.c.handled_at < cutoff))
            conn.execute(delete(tg_outbox).where(tg_outbox.c.status != PENDING,
                                                 tg_outbox.c.created_at < cutoff))

    def due_chats(self, now: float) -> list[str]:
        """The chats with a queued reply that may be tried now."""
        with self.db.connect() as conn:
            return [str(c) for c in conn.execute(
                select(tg_outbox.c.chat_id).distinct()
                .where(tg_outbox.c.status == PENDING, tg_outbox.c.next_at <= now)).scalars()]

    def next_due(self, after: float = 0.0) -> float | None:
        """When the earliest queued reply waiting past `after` may be tried again (epoch seconds)."""
        with self.db.connect() as conn:
            value = conn.execute(select(func.min(tg_outbox.c.next_at)).where(
                tg_outbox.c.status == PENDING, tg_outbox.c.next_at > after)).scalar()
        return None if value is None else float(value)

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
