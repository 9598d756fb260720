"""The command line starts and both databases answer."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from adapters.cli.main import app


def test_help_lists_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "ledger" in result.output and "intents" in result.output


def test_database_answers(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select 1")).scalar_one() == 1
    engine.dispose()
