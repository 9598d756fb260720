"""Shared fixtures: every database test runs on SQLite and on a fresh database in the real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("FINBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak", action="store_true", default=False, help="run long soak tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="soak test: run with --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


def _pg_admin_exec(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _sqlalchemy_pg_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+psycopg://", 1) + "/" + dbname


def new_pg_database() -> Iterator[str]:
    """Create a brand-new empty PostgreSQL database; drop it afterwards (kept with FINBOT_KEEP_TEST_DBS=1)."""
    name = "finbot_t_" + uuid.uuid4().hex[:12]
    _pg_admin_exec(f'CREATE DATABASE "{name}"')
    try:
        yield _sqlalchemy_pg_url(name)
    finally:
        if not os.environ.get("FINBOT_KEEP_TEST_DBS"):
            _pg_admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A brand-new empty PostgreSQL database for one test."""
    yield from new_pg_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A new SQLite file in the test's own folder."""
    return f"sqlite:///{tmp_path / 'finbot.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'finbot.db'}"
    else:
        yield from new_pg_database()
