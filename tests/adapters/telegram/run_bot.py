"""Test entry point: the transport in its own process with the engine double, settings from the environment."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from adapters.telegram.app import run
from adapters.telegram.flood import FloodLimits
from bot.config import load_settings
from tests.adapters.telegram.fakes import FakeEngine
from tests.adapters.telegram.harness import FAST_OUTBOX


def main() -> None:
    """Run the transport with FakeEngine until SIGTERM (FINBOT_TEST_* variables script its crashes)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings()
    journal = os.environ.get("FINBOT_TEST_JOURNAL")
    engine = FakeEngine(journal=Path(journal) if journal else None,
                        crash_on=os.environ.get("FINBOT_TEST_CRASH_ON") or None,
                        crash_in_message_sent=bool(os.environ.get("FINBOT_TEST_CRASH_SENT")))
    run(settings, engine, limits=FloodLimits(chat_burst=50), poll_timeout=5,
        tick_seconds=float(os.environ.get("FINBOT_TEST_TICK", "30")), outbox=FAST_OUTBOX)


if __name__ == "__main__":
    main()
