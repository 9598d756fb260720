"""Database plumbing: engines, migrations, the SQLite writer lock, retryable errors, hot-path SQL."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

SQLITE_BUSY_TIMEOUT_S = 30.0
# SQLSTATEs PostgreSQL asks us to retry on: deadlock, serialization failure, unique violation
# (two writers racing on one id; the retry then sees the first one's row).
RETRY_SQLSTATES = frozenset({"40P01", "40001", "23505"})
# An account's version must match what the batch read, or the update sets it to -1 and this
# CHECK constraint aborts the transaction (a guarded update that needs no extra round trip).
GUARD_CONSTRAINT = "ck_ledger_accounts_version"
READ_ONLY = "ledger_read_only"
# execution option: begin the transaction with commits that do not wait for the WAL flush (see defer_durability)
DEFER_SYNC = "ledger_defer_sync"
DEFERRED_SYNC = "ledger_deferred_sync"  # a connection's info key: its transaction does not wait for the flush


def normalize_url(url: str) -> str:
    """`postgres://` and `postgresql://` become `postgresql+psycopg://` (psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def create_engine(url: str, sqlite_busy_timeout: float = SQLITE_BUSY_TIMEOUT_S) -> sa.Engine:
    """An engine for `url`. SQLite: WAL, foreign keys on, synchronous=FULL, BEGIN IMMEDIATE for
    writes (a connection with execution option `ledger_read_only` begins deferred), waiting up
    to `sqlite_busy_timeout` seconds for another connection's write lock."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": sqlite_busy_timeout, "check_same_thread": False},
        )
        _tune_sqlite(engine, sqlite_busy_timeout)
        return engine
    return sa.create_engine(url, pool_pre_ping=False)


def _tune_sqlite(engine: sa.Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        _restore_sync(conn.connection.dbapi_connection, conn.connection.info)
        if conn.get_execution_options().get(DEFER_SYNC):
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")  # SQLite takes it only between transactions
            conn.connection.info[DEFERRED_SYNC] = True
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        _restore_sync(dbapi_connection, record.info)  # a raw connection taken from the pool is FULL again


def _restore_sync(dbapi_connection: Any, info: dict[Any, Any]) -> None:
    if info.pop(DEFERRED_SYNC, False) and dbapi_connection is not None:
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()


def defer_durability(conn: sa.Connection) -> None:
    """Let the transaction open on `conn` commit without waiting for its WAL to reach the disk.
    PostgreSQL: `SET LOCAL synchronous_commit = off`, at any point of the transaction. SQLite changes
    its safety level only between transactions: begin it with the execution option DEFER_SYNC instead
    (`synchronous=NORMAL` for that transaction; FULL again before the connection's next one and when it
    goes back to the pool); here that is a no-op.

    Only for a transaction that a durable commit on the same database follows before anyone is told
    what it did: both go to one WAL in order, so the later flush makes this one durable too (else call
    `flush_wal`). A killed process loses nothing (the WAL is written, only not flushed); a power cut
    before the later commit can lose this transaction, and then nothing after it was told or done either."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")


def flush_wal(engine: sa.Engine) -> None:
    """Make every commit so far durable when no durable commit followed a deferred one: SQLite fsyncs
    its WAL file; PostgreSQL's WAL writer flushes asynchronous commits within a few wal_writer_delays,
    and a durable commit by anyone flushes them at once, so a trivial write transaction is issued."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            wal = Path(database + "-wal")
            if wal.exists():
                fd = os.open(wal, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        return
    with engine.begin() as conn:  # a commit that writes WAL and waits for the flush of all before it
        conn.exec_driver_sql("SELECT pg_current_xact_id()")


def as_engine(url_or_engine: str | sa.Engine) -> tuple[sa.Engine, bool]:
    """The engine, and whether we made it (and so should dispose of it)."""
    if isinstance(url_or_engine, sa.Engine):
        return url_or_engine, False
    return create_engine(url_or_engine), True


def migrate(url_or_engine: str | sa.Engine) -> None:
    """Bring the ledger's tables to the newest revision (alembic upgrade head); idempotent."""
    from alembic import command
    from alembic.config import Config

    engine, owned = as_engine(url_or_engine)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
    finally:
        if owned:
            engine.dispose()


_locks_guard = threading.Lock()
_sqlite_locks: dict[str, threading.RLock] = {}


def writer_lock(engine: sa.Engine) -> threading.RLock | None:
    """The process-wide writer lock of a SQLite file (None on PostgreSQL, which locks rows)."""
    if engine.dialect.name != "sqlite":
        return None
    key = str(Path(engine.url.database or ":memory:").resolve())
    with _locks_guard:
        lock = _sqlite_locks.get(key)
        if lock is None:
            lock = _sqlite_locks[key] = threading.RLock()
        return lock


def is_retryable(exc: BaseException) -> bool:
    """True for deadlocks, serialization failures, id races and a missed version guard."""
    for err in (exc, getattr(exc, "orig", None), exc.__cause__):
        if err is None:
            continue
        state = getattr(err, "sqlstate", None)
        if state in RETRY_SQLSTATES:
            return True
        msg = str(err).lower()
        if type(err).__name__ == "IntegrityError" and "unique" in msg and "ledger_" in msg:
            return True
        if GUARD_CONSTRAINT in msg:
            return True
    return False


def is_sqlite_locked(exc: BaseException) -> bool:
    """True when SQLite gave up waiting (busy timeout) for another connection's write lock."""
    for err in (exc, getattr(exc, "orig", None), exc.__cause__):
        if err is not None and type(err).__name__ == "OperationalError":
            msg = str(err).lower()
            if "locked" in msg or "busy" in msg:
                return True
    return False


class HotSql:
    """The hand-tuned statements of the write path, in the driver's own parameter style.

    Concurrency: a batch first locks the chain head (`FOR UPDATE` on PostgreSQL, `BEGIN
    IMMEDIATE` on SQLite), so writers append to the hash chain one at a time, and reads what
    the previous writer committed (on PostgreSQL, by comparing head versions; see `pg_read`).
    Accounts are then written by guarded updates: each checks the version it read, and a
    mismatch aborts the transaction through a CHECK constraint, to be retried like a deadlock
    (40P01), a serialization failure (40001) or a duplicate id (23505).
    """

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"
        p = "%s" if self.pg else "?"
        self.p = p
        lock = " FOR UPDATE" if self.pg else ""
        cols = (
            "seq, id, debit_account_id, credit_account_id, amount, flags, pending_id, "
            "timeout_seconds, code, memo, reverses_id, asset, created_us, expires_us, status, hash"
        )
        self.transfer_cols = cols
        self.head = f"SELECT seq, hash, next_expiry_us FROM ledger_head WHERE id = 1{lock}"
        self.insert_transfer = f"INSERT INTO ledger_transfers ({cols}) VALUES ({', '.join([p] * 16)})"
        self.insert_failure = f"INSERT INTO ledger_failed_transfers (id, result, created_us) VALUES ({p}, {p}, {p})"
        self.update_account = (
            f"UPDATE ledger_accounts SET debits_posted = {p}, credits_posted = {p}, "
            f"debits_pending = {p}, credits_pending = {p}, "
            f"version = CASE WHEN version = {p} THEN version + 1 ELSE -1 END WHERE id = {p}"
        )
        self.update_status = f"UPDATE ledger_transfers SET status = {p} WHERE seq = {p}"
        self.update_head = (
            f"UPDATE ledger_head SET seq = {p}, hash = {p}, next_expiry_us = {p}, version = version + 1 "
            "WHERE id = 1"
        )
        self.due_holds = (
            f"SELECT {cols} FROM ledger_transfers WHERE status = 'pending' AND expires_us <= {p} "
            "ORDER BY seq"
        )
        self.next_expiry = (
            f"SELECT MIN(expires_us) FROM ledger_transfers WHERE status = 'pending' AND expires_us > {p}"
        )

    def pg_read(
        self, lookup: Sequence[str], ids: Sequence[str], rev: Sequence[str], accounts: Sequence[int]
    ) -> tuple[str, list[Any]]:
        """PostgreSQL: everything a batch reads, in one statement laid out in the transfer row's
        columns with a kind in front: the locked chain head (k=0, with the version this
        statement's snapshot saw), the transfers the batch names (1), failed ids (2), accounts
        and their versions (3) and the sums already reversed (4).

        The snapshot is taken before the head's lock is granted: when the locked head's version
        differs from the snapshot's, another batch committed meanwhile and `pg_state` is read
        again (a fresh statement, after the lock)."""
        sql = (
            "WITH h AS MATERIALIZED (SELECT seq, hash, next_expiry_us, version FROM ledger_head "
            "WHERE id = 1 FOR UPDATE) "
            "SELECT 0 AS k, h.seq, h.hash, NULL::int, NULL::int, h.next_expiry_us, NULL::int, NULL::text, "
            "h.version, NULL::int, NULL::text, NULL::text, NULL::text, "
            "(SELECT s.version FROM ledger_head s WHERE s.id = 1), NULL::bigint, NULL::text, NULL::text "
            "FROM h UNION ALL " + self._state_sql()
        )
        return sql, [list(lookup), list(ids), list(accounts), list(rev)]

    def pg_state(
        self, lookup: Sequence[str], ids: Sequence[str], rev: Sequence[str], accounts: Sequence[int]
    ) -> tuple[str, list[Any]]:
        """`pg_read` without the head: the second look after a stale snapshot."""
        return self._state_sql(), [list(lookup), list(ids), list(accounts), list(rev)]

    def _state_sql(self) -> str:
        n = "NULL"
        return (
            f"SELECT 1 AS k, {self.transfer_cols} FROM ledger_transfers WHERE id = ANY(%b::text[]) "
            f"UNION ALL SELECT 2, {n}, id, {n}, {n}, {n}, {n}, {n}, {n}, {n}, {n}, {n}, {n}, {n}, {n}, "
            "result, NULL FROM ledger_failed_transfers WHERE id = ANY(%b::text[]) "
            "UNION ALL SELECT 3, version, asset, id, flags, debits_posted, NULL, NULL, credits_posted, "
            "NULL, NULL, NULL, NULL, debits_pending, credits_pending, NULL, NULL "
            "FROM ledger_accounts WHERE id = ANY(%b::bigint[]) "
            "UNION ALL SELECT 4, NULL, reverses_id, NULL, NULL, SUM(amount)::bigint, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM ledger_transfers "
            "WHERE reverses_id = ANY(%b::text[]) GROUP BY reverses_id"
        )

    # PostgreSQL: every write of a batch in one statement (data-modifying CTEs over arrays,
    # sent in binary: psycopg's text array dumper costs more than the statement).
    # Account versions are guarded: a miss sets version -1 and the CHECK constraint aborts.
    PG_WRITE = (
        "WITH ins AS (INSERT INTO ledger_transfers (seq, id, debit_account_id, credit_account_id, "
        "amount, flags, pending_id, timeout_seconds, code, memo, reverses_id, asset, created_us, "
        "expires_us, status, hash) SELECT * FROM unnest(%b::bigint[], %b::text[], %b::int[], "
        "%b::int[], %b::bigint[], %b::int[], %b::text[], %b::bigint[], %b::int[], %b::text[], "
        "%b::text[], %b::text[], %b::bigint[], %b::bigint[], %b::text[], %b::text[])), "
        "acc AS (UPDATE ledger_accounts a SET debits_posted = v.dp, credits_posted = v.cp, "
        "debits_pending = v.dpe, credits_pending = v.cpe, "
        "version = CASE WHEN a.version = v.ver THEN a.version + 1 ELSE -1 END "
        "FROM unnest(%b::bigint[], %b::bigint[], %b::bigint[], %b::bigint[], %b::bigint[], %b::int[]) "
        "AS v(dp, cp, dpe, cpe, ver, id) WHERE a.id = v.id), "
        "st AS (UPDATE ledger_transfers t SET status = v.status "
        "FROM unnest(%b::text[], %b::bigint[]) AS v(status, seq) WHERE t.seq = v.seq), "
        "fl AS (INSERT INTO ledger_failed_transfers (id, result, created_us) "
        "SELECT * FROM unnest(%b::text[], %b::text[], %b::bigint[])) "
        "UPDATE ledger_head SET seq = %s, hash = %s, next_expiry_us = %s, version = version + 1 "
        "WHERE id = 1"
    )

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """`column IN (...)` with its parameters."""
        if self.pg:
            return f"{column} = ANY({self.p})", [list(values)]
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def transfers_by_id(self, ids: Sequence[str]) -> tuple[str, list[Any]]:
        cond, params = self.in_list("id", ids)
        return f"SELECT {self.transfer_cols} FROM ledger_transfers WHERE {cond}", params

    def failures_by_id(self, ids: Sequence[str]) -> tuple[str, list[Any]]:
        cond, params = self.in_list("id", ids)
        return f"SELECT id, result FROM ledger_failed_transfers WHERE {cond}", params

    def reversed_sums(self, ids: Sequence[str]) -> tuple[str, list[Any]]:
        cond, params = self.in_list("reverses_id", ids)
        return (
            f"SELECT reverses_id, SUM(amount) FROM ledger_transfers WHERE {cond} GROUP BY reverses_id",
            params,
        )

    def accounts_by_id(self, ids: Sequence[int]) -> tuple[str, list[Any]]:
        cond, params = self.in_list("id", ids)
        return (
            "SELECT id, asset, flags, debits_posted, credits_posted, debits_pending, credits_pending, "
            f"version FROM ledger_accounts WHERE {cond} ORDER BY id",
            params,
        )
