"""Engines in processes of their own, for the multi-process race and crash tests (real processes, real kills).

    python -m tests.bot.processes sweep DB_URL ISO_TIME        # one tick of due work at that time
    python -m tests.bot.processes say DB_URL ISO_TIME USER TEXT  # USER writes TEXT in their private chat
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any


def build(db_url: str, clock: Callable[[], datetime], out: Path | None = None) -> Any:
    """A local world and engine on `db_url`, on a clock of this process's own (the shared world clock untouched)."""
    from adapters.cli.wiring import build_broker
    from adapters.funding.sandbox import SandboxFunding
    from adapters.local.world import LocalWorld
    from bot.bootstrap import build_engine
    from bot.config import load_settings
    from ledger import create_engine

    out = out or Path("/tmp/finbot-proc-out")
    settings = load_settings(database_url=db_url, output_dir=out, telegram_bot_token="",
                             pin_key_file=os.environ.get("PIN_KEY_FILE") or str(out.parent / "pin.key"))
    db = create_engine(db_url)
    world = LocalWorld(None, db, out)
    world.now = clock  # type: ignore[method-assign]
    broker = build_broker(settings, db, clock)
    world.engine = build_engine(settings, messenger="local", clock=clock, funding=SandboxFunding(), broker=broker, db=db)
    return world


def race_worker(role: str, db_url: str, rounds: list[tuple[str, str]], barrier: Any, results: Any) -> None:
    """One side of the escrow race: for each round (payee, ISO time) wait at the barrier, then either
    sweep due escrow (`sweep`) or let the payee write /start (`claim`)."""
    now = [datetime.fromisoformat(rounds[0][1])]
    world = build(db_url, lambda: now[0])
    for payee, when in rounds:
        now[0] = datetime.fromisoformat(when)
        barrier.wait(timeout=120)
        if role == "sweep":
            time.sleep(random.uniform(0, 0.3))  # so that either side may reach the ledger first
            world.engine.tick()
        else:
            world.say(payee, "dm", "/start")
        results.put((role, payee))
    world.db.dispose()


def main(argv: list[str]) -> int:
    verb, db_url, when = argv[0], argv[1], datetime.fromisoformat(argv[2])
    world = build(db_url, lambda: when)
    if verb == "sweep":
        replies = world.engine.tick()
    elif verb == "say":
        replies = world.say(argv[3], "dm", argv[4])
    else:
        raise SystemExit(f"unknown verb {verb}")
    for item in world.render(replies):
        print(item.get("text", ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
