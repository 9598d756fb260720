"""The engine's database: its tables' metadata and their Alembic migrations (own version table)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa


def bot_metadata() -> sa.MetaData:
    """A MetaData holding only the engine's tables (SQLModel's shared metadata may hold others)."""
    from sqlmodel import SQLModel

    import bot.models  # noqa: F401  (registers the tables)

    md = sa.MetaData()
    for name, table in SQLModel.metadata.tables.items():
        if name.startswith("bot_"):
            table.to_metadata(md)
    return md


def create_tables(metadata: sa.MetaData, bind: sa.Engine | sa.Connection) -> None:
    """Create the tables of `metadata` that are missing. On PostgreSQL under an advisory lock held to the end of the
    transaction: workers starting at once would otherwise race in CREATE TABLE (one of them failing on a duplicate
    type name) for the tables made on demand (outbox, dead letters, the transport's and the paper broker's)."""
    def create(conn: sa.Connection) -> None:
        if conn.dialect.name == "postgresql":
            from bot.claims import lock_key

            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("finbot:create_tables")})
        metadata.create_all(conn, checkfirst=True)

    if isinstance(bind, sa.Connection):
        create(bind)
        return
    with bind.begin() as conn:
        create(conn)


def migrate(engine: sa.Engine, scripts: Path | None = None) -> None:
    """Bring the engine's tables to the newest revisions (alembic upgrade heads: revisions written side by side
    on one parent, e.g. by helpers working at once, each apply; a merge revision can join them later); idempotent."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(scripts or Path(__file__).parent / "migrations"))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
        conn.commit()


def migrate_all(engine: sa.Engine) -> None:
    """The ledger's migrations, then the engine's."""
    from ledger import migrate as migrate_ledger

    migrate_ledger(engine)
    migrate(engine)
