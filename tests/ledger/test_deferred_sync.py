"""Deferred durability: one transaction commits without waiting for its WAL flush, and only that one: the
connection's next transaction, and a raw connection the ledger's writer takes from the pool, are durable
again; `flush_wal` makes it durable when nothing durable followed. On SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from ledger import Ledger, TransferSpec
from ledger.db import DEFER_SYNC, defer_durability, flush_wal


def sync_setting(conn: sa.Connection) -> str:
    if conn.dialect.name == "sqlite":
        return {0: "off", 1: "normal", 2: "full", 3: "extra"}[int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())]
    return str(conn.exec_driver_sql("SHOW synchronous_commit").scalar_one())


def test_only_the_deferred_transaction_skips_the_flush(ledger: Ledger) -> None:
    db = ledger.engine
    sqlite = db.dialect.name == "sqlite"
    durable = "full" if sqlite else "on"
    with db.connect() as conn:
        with conn.begin():
            assert sync_setting(conn) == durable
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t_deferred (x INTEGER)")
        deferred = conn.execution_options(**{DEFER_SYNC: True}) if sqlite else conn
        with deferred.begin():
            deferred.exec_driver_sql("INSERT INTO t_deferred VALUES (1)")
            defer_durability(deferred)
            assert sync_setting(deferred) == ("normal" if sqlite else "off")
        conn = conn.execution_options(**{DEFER_SYNC: False})
        with conn.begin():  # the next transaction on the same connection waits for its flush again
            assert sync_setting(conn) == durable
    flush_wal(db)
    with db.connect().execution_options(**{DEFER_SYNC: sqlite}) as conn:
        with conn.begin():
            conn.exec_driver_sql("INSERT INTO t_deferred VALUES (2)")
            defer_durability(conn)
    # back in the pool deferred: the ledger's writer takes a raw connection, and it is durable
    src = ledger.open_account("a", "USD", flags=None)
    dst = ledger.open_account("b", "USD")
    funding = ledger.system_account("sandbox_funding", "USD")
    assert ledger.create_transfer(TransferSpec("f", funding.id, src.id, 100)).ok
    cur = ledger._writer.driver_connection.cursor()
    if sqlite:
        assert cur.execute("PRAGMA synchronous").fetchone()[0] == 2
    else:
        cur.execute("SHOW synchronous_commit")
        assert cur.fetchone()[0] == "on"
        ledger._writer.driver_connection.rollback()
    with db.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t_deferred").scalar_one() == 2
        assert sync_setting(conn) == durable
    assert ledger.create_transfer(TransferSpec("p", src.id, dst.id, 40)).ok
    assert ledger.check().ok
