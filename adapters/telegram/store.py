"""The transport's own tables: polling offset, handled update ids and the outbox of replies still to send."""

from __future__ import annotations

import base64
import json
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
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from bot.events import Attachment, Button, Reply, ReplyKind

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
)

PENDING, SENT, FAILED = "pending", "sent", "failed"


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
        "buttons": [[[b.label, b.data, b.start_payload, b.url] for b in row] for row in reply.buttons],
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
                     "status": PENDING, "created_at": now} for r in replies])
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

    def pending(self) -> list[tuple[int, Reply]]:
        """Replies not yet sent, oldest first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(tg_outbox.c.id, tg_outbox.c.reply)
                .where(tg_outbox.c.status == PENDING).order_by(tg_outbox.c.id)
            ).all()
        return [(int(r.id), decode_reply(r.reply)) for r in rows]

    def mark(self, row_id: int, status: str, message_id: str | None = None) -> None:
        """Record what became of one queued reply (sent with its message id, or failed)."""
        with self.db.begin() as conn:
            conn.execute(update(tg_outbox).where(tg_outbox.c.id == row_id)
                         .values(status=status, message_id=message_id))

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

    def close(self) -> None:
        """Release the database connections."""
        self.db.dispose()
