"""Standing orders run by three worker processes on one PostgreSQL database over 60 simulated days, with
SIGKILLs mid-run: prints the counts (occurrences due, run, duplicates, missed). Not a test.

    .venv/bin/python -m bench.standing_procs [--days 60] [--daily 12] [--weekly 4] [--workers 3]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from tests.bot.standing_procs import count, play, setup
from tests.conftest import new_pg_database


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--daily", type=int, default=12)
    ap.add_argument("--weekly", type=int, default=4)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--kill-every", type=int, default=4)
    ap.add_argument("--step-hours", type=int, default=6)
    args = ap.parse_args()
    gen = new_pg_database()
    url = next(gen)
    try:
        ids = setup(url, payers=4, daily=args.daily, weekly=args.weekly)
        t0 = time.monotonic()
        kills = play(url, days=args.days, workers=args.workers, kill_every=args.kill_every,
                     step=timedelta(hours=args.step_hours), timeout=3000)
        took = time.monotonic() - t0
        got = count(url, ids, args.days, kills)
        print(f"workers={args.workers} days={args.days} schedules={len(ids)} seconds={took:.1f}")
        print(got.line())
    finally:
        next(gen, None)


if __name__ == "__main__":
    main()
