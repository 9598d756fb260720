"""A sender in a process of its own, for the multi-process outbox-claim test (real processes, real SIGKILL).

    python -m tests.bot.claims_worker DB_URL NAME LOG [DIE_AFTER_CLAIMS]

Claims outbox rows (bot/outbox.py) as worker NAME, "sends" each by appending `chat row name` to LOG (fsync'd),
marks it sent, until nothing is left. With DIE_AFTER_CLAIMS it SIGKILLs itself right after that many claims,
holding leases it never settles (its successor under the same name takes them back at start).
"""

from __future__ import annotations

import os
import signal
import sys
import time

import sqlalchemy as sa

from bot import outbox


def main(argv: list[str]) -> int:
    url, name, log = argv[0], argv[1], argv[2]
    die_after = int(argv[3]) if len(argv) > 3 else 0
    db = sa.create_engine(url)
    outbox.release(db, name)
    claims = 0
    idle_since = time.monotonic()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    while True:
        rows = outbox.claim(db, "telegram", name, limit=3, lease_seconds=30.0)
        if rows:
            claims += 1
            if die_after and claims >= die_after:
                os.kill(os.getpid(), signal.SIGKILL)
            for row in rows:
                os.write(fd, f"{row.chat_id} {row.id} {name}\n".encode())
                os.fsync(fd)
                outbox.mark_sent(db, row.id, str(row.id))
            idle_since = time.monotonic()
            continue
        if outbox.depth(db) == 0 or time.monotonic() - idle_since > 20:
            return 0
        time.sleep(0.02)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
