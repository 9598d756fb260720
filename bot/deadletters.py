"""Replies a messenger could not deliver (dead letters): written by the adapter, read by operators with /admin."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

#: Its own metadata, created on demand (like the transport's tg_ tables), outside the engine's migrations.
metadata = sa.MetaData()

dead_letters = sa.Table(
    "outbox_dead_letters", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("messenger", sa.String(32), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("outbox_id", sa.Integer),
    sa.Column("chat_id", sa.String(64)),
    sa.Column("kind", sa.String(32)),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("failed_at", sa.Float, nullable=False, index=True),
)

ERROR_LIMIT = 500
SUMMARY_LIMIT = 120


@dataclass(frozen=True)
class DeadLetter:
    """One reply given up on: where it was going, what it said (in short) and why it failed."""

    id: int
    messenger: str
    chat_id: str | None
    kind: str | None
    summary: str
    error: str
    attempts: int
    failed_at: datetime


def ensure(bind: sa.Engine | sa.Connection) -> None:
    """Create the table if it is not there yet."""
    from bot.db import create_tables

    create_tables(metadata, bind)


def add(conn: sa.Connection, *, messenger: str, source: str, outbox_id: int | None, chat_id: str | None,
        kind: str | None, summary: str, payload: str, error: str, attempts: int,
        at: float | None = None) -> None:
    """Record one dead letter (in the caller's transaction)."""
    conn.execute(sa.insert(dead_letters).values(
        messenger=messenger, source=source, outbox_id=outbox_id, chat_id=chat_id, kind=kind,
        summary=summary[:SUMMARY_LIMIT], payload=payload, error=error[:ERROR_LIMIT], attempts=attempts,
        failed_at=time.time() if at is None else at))


def recent(conn: sa.Connection, limit: int = 10) -> list[DeadLetter]:
    """The newest dead letters first (none when no adapter ever created the table)."""
    if not sa.inspect(conn).has_table(dead_letters.name):
        return []
    rows = conn.execute(sa.select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)).all()
    return [DeadLetter(int(r.id), str(r.messenger), r.chat_id, r.kind, str(r.summary), str(r.error),
                       int(r.attempts), datetime.fromtimestamp(float(r.failed_at), UTC)) for r in rows]


def count(conn: sa.Connection) -> int:
    """How many dead letters there are."""
    if not sa.inspect(conn).has_table(dead_letters.name):
        return 0
    return int(conn.execute(sa.select(sa.func.count()).select_from(dead_letters)).scalar() or 0)


def report(conn: sa.Connection, lang: str, limit: int = 10) -> str:
    """What `/admin deadletters` shows an operator: the newest dead letters, one line each."""
    from bot.i18n import t

    letters = recent(conn, limit)
    if not letters:
        return t(lang, "No dead letters: every reply was delivered or is still being tried.")
    lines = [t(lang, "Dead letters ({n} in all), newest first:", n=count(conn))]
    for d in letters:
        lines.append(f"#{d.id} {d.failed_at:%Y-%m-%d %H:%M} UTC · {d.messenger} chat {d.chat_id or '?'} · "
                     f"{d.kind or '?'} «{d.summary}» · {d.attempts}× · {d.error}")
    return "\n".join(lines)
