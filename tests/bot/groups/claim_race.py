"""The claim race's processes: `python -m tests.bot.groups.claim_race URL CLAIMERS PARTS PROCS` starts PROCS
processes that each claim for their share of users c00..c<CLAIMERS-1> at once (with `dup` after: every process
claims for every user, in its own random order), and prints one line a claim."""

from __future__ import annotations

import multiprocessing
import random
import sys
from typing import Any


def worker(url: str, names: list[str], barrier: Any, results: Any) -> None:
    from sqlmodel import Session, select

    from bot.directory import owner_of
    from bot.groups import packets
    from bot.models import User
    from ledger import Ledger, create_engine
    from tests.bot.groups.conftest import NOW

    db = create_engine(url)
    ledger = Ledger(db, clock=lambda: NOW)
    with Session(db) as s:
        ids = {u.handle: u.id for u in s.exec(select(User)).all()}

    def wallet(user_id: int, currency: str) -> int:
        return ledger.open_account(owner_of(user_id), currency).id

    barrier.wait(timeout=60)
    for name in names:
        got = packets.claim(db, ledger, "race", int(ids[name]), wallet, NOW)
        results.put(f"claim {got.code} {name} {got.amount}")
    ledger.close()
    db.dispose()


def main(argv: list[str]) -> int:
    url, claimers, _parts, procs = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    everyone_everywhere = len(argv) > 4 and argv[4] == "dup"  # every process claims for every person
    names = [f"c{i:02d}" for i in range(claimers)]
    ctx = multiprocessing.get_context("fork")  # the imports done once; each worker opens its own connections
    barrier = ctx.Barrier(procs)
    results = ctx.Queue()
    shares = [random.sample(names, len(names)) if everyone_everywhere else names[i::procs] for i in range(procs)]
    ps = [ctx.Process(target=worker, args=(url, shares[i], barrier, results)) for i in range(procs)]
    for p in ps:
        p.start()
    lines = [results.get(timeout=120) for _ in range(sum(len(x) for x in shares))]
    for p in ps:
        p.join(timeout=60)
    for line in lines:
        print(line)
    return 0 if all(p.exitcode == 0 for p in ps) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
