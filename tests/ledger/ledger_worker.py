"""A writer process for the crash and concurrency tests (`python -m tests.ledger.ledger_worker`).

It prints `ok <id>` for every transfer it saw committed, right after create_transfers returned,
and flushes, so a parent that kills it knows what must be in the book."""

from __future__ import annotations

import argparse
import random
import sys

from ledger import Ledger, TransferFlag, TransferSpec

F = TransferFlag


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def crash_writer(url: str, prefix: str, seed: int, accounts: list[int]) -> None:
    """Write forever (until killed): single transfers, batches, linked chains, holds and posts."""
    rnd = random.Random(seed)
    led = Ledger(url)
    holds: list[str] = []
    sent: list[TransferSpec] = []
    k = 0
    _say("ready")
    while True:
        specs: list[TransferSpec] = []
        for _ in range(rnd.choice([1, 1, 1, 5, 20])):
            k += 1
            tid = f"{prefix}-{k}"
            d, c = rnd.sample(accounts, 2)
            roll = rnd.random()
            if roll < 0.15:
                specs.append(TransferSpec(tid, d, c, rnd.randint(1, 50), F.PENDING, timeout_seconds=rnd.choice([0, 3600])))
            elif roll < 0.25 and holds:
                specs.append(TransferSpec(tid, 0, 0, 0, F.POST_PENDING_TRANSFER, pending_id=holds.pop()))
            elif roll < 0.35:
                specs.append(TransferSpec(tid, d, c, rnd.randint(1, 50), F.LINKED))
                k += 1
                specs.append(TransferSpec(f"{prefix}-{k}", c, d, rnd.randint(1, 50)))
            elif roll < 0.40 and sent:
                specs.append(rnd.choice(sent))  # a retry: must answer exists
            else:
                specs.append(TransferSpec(tid, d, c, rnd.randint(1, 50), memo="crash"))
        if specs[-1].flags & F.LINKED:
            specs.pop()
        for spec, r in zip(specs, led.create_transfers(specs), strict=True):
            if r.ok:
                _say(f"ok {r.id}")
                if r.result == "ok":
                    sent.append(spec)
                    if spec.flags & F.PENDING:
                        holds.append(spec.id)


def hammer(url: str, prefix: str, seed: int, accounts: list[int], n: int) -> None:
    """Transfers between a few hot accounts with a skewed choice; prints each outcome."""
    rnd = random.Random(seed)
    weights = [2**-i for i in range(len(accounts))]
    led = Ledger(url)
    done: list[list[TransferSpec]] = []
    for k in range(n):
        d, c = rnd.choices(accounts, weights, k=2)
        if d == c:
            c = accounts[(accounts.index(d) + 1) % len(accounts)]
        tid = f"{prefix}-{k}"
        if rnd.random() < 0.1 and done:
            again = rnd.choice(done)  # a redelivered request: it must change nothing
            results = [r.result.value for r in led.create_transfers(again)]
            if results != ["exists"] * len(again):
                raise SystemExit(f"retry of {[s.id for s in again]} answered {results}")
            continue
        if rnd.random() < 0.2:
            specs = [
                TransferSpec(tid + "a", d, c, rnd.randint(1, 30), F.LINKED),
                TransferSpec(tid + "b", c, d, rnd.randint(1, 30)),
            ]
        else:
            specs = [TransferSpec(tid, d, c, rnd.randint(1, 40), rnd.choice([F.NONE, F.NONE, F.BALANCING_DEBIT]))]
        results = led.create_transfers(specs)
        for r in results:
            _say(f"{'ok' if r.result == 'ok' else 'no'} {r.id} {r.result.value}")
        if all(r.result == "ok" for r in results):
            done.append(specs)
    led.close()
    _say("done")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["crash", "hammer"])
    ap.add_argument("url")
    ap.add_argument("prefix")
    ap.add_argument("seed", type=int)
    ap.add_argument("accounts", help="comma-separated account ids")
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    accounts = [int(x) for x in a.accounts.split(",")]
    if a.mode == "crash":
        crash_writer(a.url, a.prefix, a.seed, accounts)
    else:
        hammer(a.url, a.prefix, a.seed, accounts, a.n)


if __name__ == "__main__":
    main()
