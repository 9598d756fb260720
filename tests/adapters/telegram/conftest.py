"""Fixtures: a fresh loopback Bot API server per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tools.botapi_server import BotApiServer


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    """A started Bot API server for the bot `finbot_test_bot`, privacy mode on."""
    with BotApiServer() as s:
        yield s


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """PTB 22 warns about its own `RetryAfter` constructor; that is not ours to fix."""
    quiet = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")
    for item in items:
        if "adapters/telegram" in str(item.path):
            item.add_marker(quiet)
