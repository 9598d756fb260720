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
