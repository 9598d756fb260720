"""A checker's approval in a process of its own, to be killed mid-way (FINBOT_CRASH_AT) by the crash test.

    python -m tests.bot.operators.crash_worker DB_URL CHECKER_ID APPROVAL_ID
"""

from __future__ import annotations

import sys

from bot.config import load_settings
from bot.operators import checker
from ledger import Ledger, create_engine
from tests.bot.operators.conftest import NOW


def main(argv: list[str]) -> int:
    url, checker_id, approval = argv[0], int(argv[1]), argv[2]
    db = create_engine(url)
    ledger = Ledger(db, clock=lambda: NOW)
    told = checker.approve(db, ledger, load_settings(database_url=url), checker_id, approval, NOW)
    print("ok" if told.ok else "not ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
