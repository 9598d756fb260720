"""Alembic environment for the engine's tables: runs on the connection `bot.db.migrate` hands over."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from bot.db import bot_metadata

VERSION_TABLE = "alembic_version_bot"
PG_MIGRATION_LOCK = 0xB07B07


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=bot_metadata(),
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=lambda name, type_, parent: type_ != "table" or bool(name and name.startswith(("bot_", "tg_"))),
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the engine's migrations run on a connection handed over by bot.db.migrate")
_run(connection)
