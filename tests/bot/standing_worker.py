"""A worker process ticking standing orders on a shared database (real processes for the exactly-once tests).

    python -m tests.bot.standing_worker once DB_URL ISO_TIME   # one tick at that time
    python -m tests.bot.standing_worker loop DB_URL            # tick at the shared clock (bot_kv
                                                               # "standing_clock") until it says "stop"
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from adapters.funding.sandbox import SandboxFunding
from bot.execution import Executor
from bot.models import KeyValue
from bot.standing.runner import Policy, tick
from ledger import Ledger, create_engine

CLOCK_KEY = "standing_clock"
POLICY = Policy(misfire_bound=3, retry_after=timedelta(hours=4))


def main(argv: list[str]) -> int:
    verb, db_url = argv[0], argv[1]
    db = create_engine(db_url)
    ledger = Ledger(db)
    ex = Executor(ledger=ledger, funding=SandboxFunding())
    if verb == "once":
        tick(db, datetime.fromisoformat(argv[2]), POLICY, ex.run)
        return 0
    ran = 0
    while True:
        with Session(db) as s:
            row = s.get(KeyValue, CLOCK_KEY)
            raw = row.value if row is not None else None
        if raw == "stop":
            break
        if raw:
            ran += tick(db, datetime.fromisoformat(raw), POLICY, ex.run,
                        wall=lambda: datetime.now(UTC)).ran
        time.sleep(0.01)
    print(ran)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
