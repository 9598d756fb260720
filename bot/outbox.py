"""The transactional outbox: replies written in the transaction of the change they report, claimed once by a sender.

Rows are written by `enqueue` inside the caller's transaction (the engine's unit of work, or the messenger
adapter's record of a handled update), so a crash either keeps the change and its replies or neither. A sender,
in any process, takes a row with `claim`: only the oldest unsent row of each chat is eligible (a chat's replies go
out in order), and the claim is `SELECT ... FOR UPDATE SKIP LOCKED` plus a lease on PostgreSQL, so two workers
never send the same row while its lease runs. A sender that dies leaves its lease to run out (or its successor of
the same name releases it at start); `mark_sent`, `retry_later` and `give_up` settle a claimed row.

The table is created on demand (like the dead letters), outside the engine's migrations: every messenger adapter
and the engine share it, each row naming its messenger.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot import deadletters
from bot.events import Attachment, Button, Reply, ReplyKind

metadata = sa.MetaData()

messages = sa.Table(
    "outbox_messages", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("messenger", sa.String(32), nullable=False),
    sa.Column("chat_id", sa.String(64), nullable=False),
    sa.Column("source", sa.String(96), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_at", sa.Float, nullable=False, server_default="0"),
    sa.Column("lease_until", sa.Float, nullable=False, server_default="0"),
    sa.Column("claimed_by", sa.String(96)),
    sa.Column("message_id", sa.String(64)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("sent_at", sa.Float),
    sa.Index("ix_outbox_messages_queue", "messenger", "status", "chat_id", "id"),
)

PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class Queued:
    """One row of the outbox as read: `reply` is None when its payload does not read (`problem` says why)."""

    id: int
    messenger: str
    source: str
    chat_id: str
    payload: str
    reply: Reply | None
    problem: str | None
    attempts: int
    next_at: float


def ensure(bind: sa.Engine | sa.Connection) -> None:
    """Create the table if it is not there yet."""
    from bot.db import create_tables

    create_tables(metadata, bind)


# ------------------------------------------------------------------ payloads

def encode_reply(reply: Reply) -> str:
    """A reply as JSON text (attachments in base64)."""
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
    """The reply `encode_reply` stored (raises on a payload that does not read)."""
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


def _read(r: Any) -> Queued:
    payload = r.payload if isinstance(r.payload, str) else str(r.payload)
    reply: Reply | None = None
    problem: str | None = None
    try:
        reply = decode_reply(payload)
    except Exception as exc:  # a row from another release, or damaged: never fatal
        problem = f"payload does not read: {type(exc).__name__}: {exc}"
    return Queued(int(r.id), str(r.messenger), str(r.source), str(r.chat_id), payload, reply, problem,
                  int(r.attempts or 0), float(r.next_at or 0.0))


# ------------------------------------------------------------------ writing (inside the caller's transaction)

def enqueue(conn: sa.Connection, messenger: str, replies: Sequence[Reply], source: str,
            now: float | None = None) -> int:
    """Queue `replies` in the caller's transaction (nothing is committed here); how many rows were written."""
    if not replies:
        return 0
    at = time.time() if now is None else now
    conn.execute(sa.insert(messages), [
        {"messenger": messenger, "chat_id": str(r.chat_id), "source": source[:96], "payload": encode_reply(r),
         "status": PENDING, "attempts": 0, "next_at": 0.0, "lease_until": 0.0, "created_at": at}
        for r in replies])
    return len(replies)


def enqueue_raw(conn: sa.Connection, messenger: str, rows: Iterable[tuple[str, str, str, float]]) -> None:
    """Queue stored payloads as they are, readable or not: (chat_id, source, payload, created_at) each."""
    values = [{"messenger": messenger, "chat_id": chat, "source": source[:96], "payload": payload,
               "status": PENDING, "attempts": 0, "next_at": 0.0, "lease_until": 0.0, "created_at": at}
              for chat, source, payload, at in rows]
    if values:
        conn.execute(sa.insert(messages), values)


# ------------------------------------------------------------------ the sender's side

def _heads(messenger: Any, now: Any, chat: Any) -> sa.Select[Any]:
    """The oldest unsent row of each chat that may be tried now (not leased, not waiting for a retry). The
    arguments are values (messenger, time, chat or None for every chat) or bound parameters in their place."""
    m = messages
    earlier = messages.alias("earlier")
    q = (sa.select(m.c.id).where(
        m.c.messenger == messenger, m.c.status == PENDING, m.c.next_at <= now, m.c.lease_until <= now,
        ~sa.exists().where(earlier.c.messenger == m.c.messenger, earlier.c.chat_id == m.c.chat_id,
                           earlier.c.status == PENDING, earlier.c.id < m.c.id))
        .order_by(m.c.id))
    if chat is not None:
        q = q.where(m.c.chat_id == chat)
    return q


def _claim_statement(chat: bool) -> Any:
    """PostgreSQL's claim in one statement (built once): lease the oldest due unleased row of each chat (of one chat
    when `chat`), locked with SKIP LOCKED, and return them. Parameters: b_messenger, now, b_chat, lim, until,
    b_worker (bound names other than the columns, as an UPDATE requires)."""
    m = messages
    now = sa.bindparam("now", type_=sa.Float)
    heads = (_heads(sa.bindparam("b_messenger"), now, sa.bindparam("b_chat") if chat else None)
             .limit(sa.bindparam("lim", type_=sa.Integer)).with_for_update(skip_locked=True, of=m))
    return (sa.update(m).where(m.c.id.in_(heads.scalar_subquery()), m.c.lease_until <= now)
            .values(lease_until=sa.bindparam("until", type_=sa.Float), claimed_by=sa.bindparam("b_worker"))
            .returning(*m.c))


_CLAIM = {True: _claim_statement(True), False: _claim_statement(False)}


def claim(db: sa.Engine, messenger: str, worker: str, *, now: float | None = None, limit: int = 50,
          lease_seconds: float = 60.0, chat: str | None = None) -> list[Queued]:
    """Take up to `limit` rows to send (at most one a chat: each chat's oldest), leased to `worker`.

    On PostgreSQL the candidate rows are locked with SKIP LOCKED, so concurrent claimers never take the same
    row; the lease (committed with the claim) keeps the row out of others' claims while it is being sent."""
    at = time.time() if now is None else now
    until = at + lease_seconds
    with db.begin() as conn:
        if conn.dialect.name == "postgresql":
            # one statement: lock the heads (SKIP LOCKED), lease them, return them
            params: dict[str, Any] = {"b_messenger": messenger, "now": at, "lim": limit, "until": until,
                                      "b_worker": worker[:96]}
            if chat is not None:
                params["b_chat"] = chat
            got = list(conn.execute(_CLAIM[chat is not None], params).all())
            if got:
                # a lease is soft state (lost in a database crash, it only means another try): no need to wait for fsync
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            return [_read(r) for r in sorted(got, key=lambda r: int(r.id))]
        ids = [int(i) for i in conn.execute(_heads(messenger, at, chat).limit(limit)).scalars()]
        if not ids:
            return []
        conn.execute(sa.update(messages).where(messages.c.id.in_(ids), messages.c.lease_until <= at)
                     .values(lease_until=until, claimed_by=worker[:96]))
        rows = conn.execute(sa.select(messages).where(messages.c.id.in_(ids), messages.c.claimed_by == worker[:96],
                                                      messages.c.lease_until == until)
                            .order_by(messages.c.id)).all()
    return [_read(r) for r in rows]


def renew(db: sa.Engine, row_id: int, worker: str, *, lease_seconds: float, now: float | None = None) -> bool:
    """Extend `worker`'s lease on a row it claimed, just before and while sending it: False when the row is no longer
    its to send (settled, released, or its lease ran out and another worker claimed it), so it is not sent twice.
    The update is the fence: a claimer taking the row over and this renewal are serialised on the row."""
    at = time.time() if now is None else now
    with db.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")  # soft state, as the claim
        moved = conn.execute(sa.update(messages).where(messages.c.id == row_id, messages.c.status == PENDING,
                                                       messages.c.claimed_by == worker[:96], messages.c.lease_until > 0)
                             .values(lease_until=at + lease_seconds)).rowcount
    return bool(moved == 1)


def mark_sent(db: sa.Engine, row_id: int, message_id: str | None = None, now: float | None = None) -> bool:
    """The row was delivered: never sent again. False when it was already settled."""
    with db.begin() as conn:
        moved = conn.execute(sa.update(messages).where(messages.c.id == row_id, messages.c.status == PENDING)
                             .values(status=SENT, message_id=message_id, lease_until=0.0,
                                     sent_at=time.time() if now is None else now)).rowcount
    return bool(moved == 1)


def retry_later(db: sa.Engine, row_id: int, attempts: int, next_at: float, error: str) -> None:
    """A try failed in a way worth another: count it, say when, and give up the lease."""
    with db.begin() as conn:
        conn.execute(sa.update(messages).where(messages.c.id == row_id)
                     .values(attempts=attempts, next_at=next_at, last_error=error[:500], lease_until=0.0))


def give_up(db: sa.Engine, row: Queued, error: str, attempts: int, summary: str) -> None:
    """Out of the queue and into the dead letters, in one transaction."""
    reply = row.reply
    with db.begin() as conn:
        moved = conn.execute(sa.update(messages).where(messages.c.id == row.id, messages.c.status == PENDING)
                             .values(status=FAILED, attempts=attempts, last_error=error[:500],
                                     lease_until=0.0)).rowcount
        if moved != 1:
            return
        deadletters.add(
            conn, messenger=row.messenger, source=row.source, outbox_id=row.id,
            chat_id=reply.chat_id if reply is not None else (row.chat_id or None),
            kind=reply.kind.value if reply is not None else None, summary=summary,
            payload=row.payload, error=error, attempts=attempts)


def release(db: sa.Engine, worker: str) -> int:
    """Give up every lease `worker` holds (a worker starting again under its old name, or stopping)."""
    with db.begin() as conn:
        return int(conn.execute(sa.update(messages).where(messages.c.claimed_by == worker[:96],
                                                          messages.c.status == PENDING, messages.c.lease_until > 0)
                                .values(lease_until=0.0)).rowcount or 0)


# ------------------------------------------------------------------ reading

def queue(db: sa.Engine | sa.Connection, messenger: str, chat: str | None = None) -> list[Queued]:
    """Rows not yet sent nor given up (of one chat, or all), oldest first."""
    q = (sa.select(messages).where(messages.c.messenger == messenger, messages.c.status == PENDING)
         .order_by(messages.c.id))
    if chat is not None:
        q = q.where(messages.c.chat_id == chat)
    if isinstance(db, sa.Connection):
        return [_read(r) for r in db.execute(q).all()]
    with db.connect() as conn:
        return [_read(r) for r in conn.execute(q).all()]


def counts(db: sa.Engine, messenger: str | None = None) -> dict[str, int]:
    """Rows by status."""
    q = sa.select(messages.c.status, sa.func.count()).group_by(messages.c.status)
    if messenger is not None:
        q = q.where(messages.c.messenger == messenger)
    with db.connect() as conn:
        return {str(s): int(n) for s, n in conn.execute(q).all()}


def depth(db: sa.Engine) -> int:
    """How many replies wait to be sent (every messenger)."""
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(messages)
                                .where(messages.c.status == PENDING)).scalar() or 0)


def due_chats(db: sa.Engine, messenger: str, now: float) -> list[str]:
    """Chats whose oldest unsent reply may be tried now."""
    with db.connect() as conn:
        ids = _heads(messenger, now, None).subquery()
        return [str(c) for c in conn.execute(
            sa.select(messages.c.chat_id).distinct().where(messages.c.id.in_(sa.select(ids.c.id)))).scalars()]


def next_due(db: sa.Engine, messenger: str, after: float) -> float | None:
    """When the earliest row waiting past `after` (a retry, or a lease running out) may be tried."""
    with db.connect() as conn:
        a = conn.execute(sa.select(sa.func.min(messages.c.next_at)).where(
            messages.c.messenger == messenger, messages.c.status == PENDING, messages.c.next_at > after)).scalar()
        b = conn.execute(sa.select(sa.func.min(messages.c.lease_until)).where(
            messages.c.messenger == messenger, messages.c.status == PENDING, messages.c.lease_until > after)).scalar()
    found = [float(v) for v in (a, b) if v is not None]
    return min(found) if found else None


def prune(db: sa.Engine, before: float) -> None:
    """Forget settled rows created before `before`."""
    with db.begin() as conn:
        conn.execute(sa.delete(messages).where(messages.c.status != PENDING, messages.c.created_at < before))
