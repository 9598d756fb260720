"""Who does a piece of work when several workers share one database: advisory locks and per-row claims.

On PostgreSQL a named lock is `pg_try_advisory_lock` on a connection of its own (released when that connection
ends, so a worker killed by SIGKILL gives it up at once); on SQLite, one process per database file is the rule,
so the lock is always granted. Per-row claims of due work use `FOR UPDATE SKIP LOCKED` (`claim_rows`).
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name (pg advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def worker_name(slot: str | None = None) -> str:
    """This worker's name: FINBOT_WORKER_NAME, else host:slot with FINBOT_WORKER_SLOT (`finbot run --workers`
    numbers them; 0 for a lone worker). A worker started again under its old name takes its leases back."""
    given = os.environ.get("FINBOT_WORKER_NAME")
    if given:
        return given
    return f"{socket.gethostname()}:{slot or os.environ.get('FINBOT_WORKER_SLOT', '0')}"


@contextmanager
def try_lock(db: sa.Engine, name: str) -> Iterator[bool]:
    """Hold the named lock for the block when no other worker holds it; yields whether it is held."""
    if db.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    with db.connect() as conn:
        got = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


class Leadership:
    """A lock held for as long as this worker lives (e.g. the one long-polling Telegram), on its own connection."""

    def __init__(self, url_or_engine: str | sa.Engine, name: str = "finbot:poller") -> None:
        self._db = url_or_engine if isinstance(url_or_engine, sa.Engine) else None
        self._url = url_or_engine if isinstance(url_or_engine, str) else None
        self._conn: sa.Connection | None = None
        self._key = lock_key(name)
        self.held = False

    def _engine(self) -> sa.Engine:
        if self._db is None:
            assert self._url is not None
            self._db = sa.create_engine(self._url, poolclass=sa.pool.NullPool)
        return self._db

    def acquire(self) -> bool:
        """Take the lock if it is free (True when this worker holds it, now or already)."""
        db = self._engine()
        if db.dialect.name != "postgresql":
            self.held = True
            return True
        if self.held and self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT 1"))
                self._conn.commit()
                return True
            except sa.exc.DBAPIError:  # the connection is gone, and the lock with it
                self.close()
        if self._conn is None:
            self._conn = db.connect()
        self.held = bool(self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
        self._conn.commit()
        return self.held

    def close(self) -> None:
        """Give the lock up (closing the connection does)."""
        self.held = False
        if self._conn is not None:
            try:
                self._conn.close()
            except sa.exc.DBAPIError:
                pass
            self._conn = None


def claim_rows(s: Any, query: sa.Select[Any], *, limit: int = 100) -> Sequence[Any]:
    """The rows of `query` no other transaction holds, locked in the caller's transaction until it ends
    (`FOR UPDATE SKIP LOCKED` on PostgreSQL; plain on SQLite, whose writers are one at a time). `s` is a
    Session or a Connection."""
    q = query.limit(limit)
    bind = s.get_bind() if hasattr(s, "get_bind") else s
    if bind.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return list(s.execute(q).all())
