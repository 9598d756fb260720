"""Alembic environment for the ledger: runs on the connection `ledger.db.migrate` hands over."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from ledger.tables import metadata

VERSION_TABLE = "alembic_version_ledger"
# Serialises concurrent `migrate` calls on PostgreSQL (any constant unique to the ledger will do).
PG_MIGRATION_LOCK = 0x1ED6E5


def run_migrations_online() -> None:
    """Upgrade on the given connection, inside one transaction."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        url = context.config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("ledger migrations need a connection or sqlalchemy.url")
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            _run(conn)
        engine.dispose()
    else:
        _run(connection)


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("the ledger's migrations run online only")
run_migrations_online()
