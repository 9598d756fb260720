"""Benchmark: complete "send, confirm, PIN" conversations per second through the engine, p50/p99 per event.

Beside it, in the same run, the ledger-only rate of the same transfers. Prints figures; asserts nothing.
    python bench/engine.py [--conversations N] [--no-pg | --no-sqlite] [--big]

--big: before the timed conversations, seed a big book (untimed): 100,000 users (bot users, identities and
USD wallets, inserted in bulk) and 1,000,000 transfers through the ledger (create_transfers, 1,000 per
durable batch): a top-up per user, then user-to-user payments, 20,000 of them from and to the bench's
alice, beside as many executed send actions of hers (what history, velocity and new-payee checks read).
Each line then ends with `book=big`; run without --big in the same session for the empty book.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from adapters.funding.sandbox import SandboxFunding  # noqa: E402
from bot.bootstrap import build_engine  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.directory import owner_of  # noqa: E402
from bot.events import Chat, ChatKind, Event, Person, Press  # noqa: E402
from bot.models import Action, Identity, User  # noqa: E402
from ledger import Ledger, TransferSpec, create_engine  # noqa: E402
from ledger.flags import AccountFlag  # noqa: E402
from ledger.tables import accounts as accounts_t  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


BIG_USERS = 100_000
BIG_TRANSFERS = 1_000_000
ALICE_SHARE = 20_000  # of the transfers: alice's own history (and as many executed send actions)


def seed_big(db: sa.Engine, ledger: Ledger, alice: int, bob: int, now: datetime) -> None:
    """The big book, untimed: users in bulk, then every transfer through the ledger in batches."""
    rng_state = 12345

    def rand(k: int) -> int:  # a small LCG: deterministic and cheap
        nonlocal rng_state
        rng_state = (rng_state * 6364136223846793005 + 1442695040888963407) % 2**64
        return (rng_state >> 33) % k

    t0 = time.perf_counter()
    batch = 10_000
    user_t, ident_t, action_t = User.__table__, Identity.__table__, Action.__table__  # type: ignore[attr-defined]
    with db.begin() as conn:
        first = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(user_t.c.id), 0))).scalar_one()) + 1
    ids = list(range(first, first + BIG_USERS))
    for k in range(0, BIG_USERS, batch):
        chunk = ids[k:k + batch]
        with db.begin() as conn:
            conn.execute(user_t.insert(), [dict(id=u, handle=f"seed{u}", name=None, lang="en", lang_chosen=False, currency="USD",
                                                kyc_tier=0, started=True, private_chat_id=f"dm:seed{u}", pin_hash=None,
                                                pin_failures=0, pin_exposed=False, is_operator=False, created_at=now)
                                           for u in chunk])
            conn.execute(ident_t.insert(), [dict(user_id=u, messenger="bench", external_id=f"seed{u}") for u in chunk])
            conn.execute(accounts_t.insert(), [dict(owner=owner_of(u), asset="USD", kind="wallet", flags=int(AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS), label=f"@seed{u}",
                                                    debits_posted=0, credits_posted=0, debits_pending=0, credits_pending=0,
                                                    version=0, created_us=0) for u in chunk])
    if db.dialect.name == "postgresql":
        with db.begin() as conn:  # the explicit ids above: move the sequence past them
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('bot_users', 'id'), (SELECT max(id) FROM bot_users))")
    with db.connect() as conn:
        wallet = dict(conn.execute(sa.select(accounts_t.c.owner, accounts_t.c.id).where(accounts_t.c.kind == "wallet")).all())
    accts = [wallet[owner_of(u)] for u in ids]
    a_acc, b_acc = wallet[owner_of(alice)], wallet[owner_of(bob)]
    funding = ledger.system_account("sandbox_funding", "USD").id
    specs: list[TransferSpec] = [TransferSpec(id=f"seed-fund-{i}", debit_account_id=funding, credit_account_id=a, amount=10**6, memo="top-up")
                                 for i, a in enumerate(accts)]
    specs.append(TransferSpec(id="seed-fund-alice", debit_account_id=funding, credit_account_id=a_acc, amount=10**7, memo="top-up"))
    for i in range(BIG_TRANSFERS - len(specs)):
        if i < ALICE_SHARE:  # alice pays (and is paid by) seeded users
            other = accts[rand(BIG_USERS)]
            d, c = (a_acc, other) if i % 2 == 0 else (other, a_acc)
        else:
            d, c = accts[rand(BIG_USERS)], accts[rand(BIG_USERS)]
            if d == c:
                c = b_acc
        specs.append(TransferSpec(id=f"seed-{i}", debit_account_id=d, credit_account_id=c, amount=1 + rand(50), memo="seed"))
    for k in range(0, len(specs), 1000):
        results = ledger.create_transfers(specs[k:k + 1000])
        bad = [r for r in results if not r.ok]
        assert not bad, bad[:3]
    with db.begin() as conn:  # alice's executed sends: what the velocity and new-payee checks read
        rows = []
        for i in range(ALICE_SHARE):
            payee = ids[rand(BIG_USERS)]
            body = (f'{{"currency":"USD","fee":0,"from_user":{alice},"kind":"send","legs":[{{"amount":1,"escrow":false,'
                    f'"handle":"seed{payee}","label":"@seed{payee}","to_user":{payee}}}],"note":null}}')
            rows.append(dict(id=f"seed:{i}", kind="send", initiator_id=alice, messenger="bench", origin_chat_id="dm:alice",
                             origin_group=False, payload=body, digest="0" * 64, status="executed", stepup_method="pin",
                             result="ok", attempt=0, card_chat_id="dm:alice", card_message_id=None,
                             created_at=now - timedelta(days=1 + i % 300), expires_at=now - timedelta(days=i % 300),
                             done_at=now - timedelta(days=1 + i % 300)))
        if "moved_minor" in action_t.c:  # what each moved, kept with it since migration 0006 (older heads lack it)
            for r in rows:
                r.update(moved_minor=1, moved_currency="USD")
        conn.execute(action_t.insert(), rows)
    print(f"  (seeded {BIG_USERS} users and {len(specs)} transfers in {time.perf_counter() - t0:.0f}s, untimed)", flush=True)


def run(url: str, n: int, argon_time: int, argon_mem: int, big: bool = False) -> dict[str, float]:
    clock = Clock()
    # limits out of the way: the top-up below must cover every conversation's $1
    settings = load_settings(database_url=url, pin_argon2_time_cost=argon_time, pin_argon2_memory_kib=argon_mem,
                             stepup_velocity_max_count=10**9, kyc_tier0_limit=Decimal(10**9))
    db = create_engine(url)
    engine = build_engine(settings, messenger="bench", clock=clock, funding=SandboxFunding(cap_minor=10**12), db=db)
    seq = 0

    def ev(user: str, text: str | None = None, press: str | None = None) -> Event:
        nonlocal seq
        seq += 1
        clock.now += timedelta(milliseconds=1)
        return Event(f"b{seq}", Chat("bench", f"dm:{user}", ChatKind.private), Person("bench", user, handle=user),
                     clock.now, text=text, message_id=str(seq),
                     press=Press(f"p{seq}", press, None) if press else None)

    def confirm_token(replies: list) -> str:  # type: ignore[type-arg]
        for r in replies:
            for row in r.buttons:
                for b in row:
                    if b.data and b.label == "Confirm":
                        return b.data
        raise RuntimeError("no Confirm button: " + repr([r.text for r in replies]))

    users = ["alice", "bob"]
    for u in users:
        engine.handle(ev(u, "/start"))
        engine.handle(ev(u, "/pin"))
        engine.handle(ev(u, "4826"))
        engine.handle(ev(u, "4826"))
    if big:
        with db.connect() as conn:
            uid = dict(conn.execute(sa.select(User.handle, User.id)).all())  # type: ignore[call-overload]
        seed_big(db, engine.ledger, uid["alice"], uid["bob"], clock.now)
    topup = engine.handle(ev("alice", f"top up ${n + 100}"))
    engine.handle(ev("alice", press=confirm_token(topup)))
    engine.handle(ev("alice", "4826"))

    per_event: list[float] = []
    t0 = time.perf_counter()
    for _ in range(n):
        a = time.perf_counter()
        card = engine.handle(ev("alice", "send $1 to @bob"))
        b = time.perf_counter()
        pressed = engine.handle(ev("alice", press=confirm_token(card)))
        c = time.perf_counter()
        done = engine.handle(ev("alice", "4826"))
        d = time.perf_counter()
        per_event += [b - a, c - b, d - c]
        assert any("Done" in r.text for r in done), [r.text for r in card + pressed + done]
    elapsed = time.perf_counter() - t0
    report = engine.ledger.check()
    assert report.ok, report.problems

    # ledger only: the same transfers, one durable transaction each, in the same run
    ledger = Ledger(db, clock=clock)
    src = ledger.open_account("bench:src", "USD", "wallet", flags=None)
    dst = ledger.open_account("bench:dst", "USD", "wallet")
    funding = ledger.system_account("sandbox_funding", "USD")
    ledger.create_transfer(TransferSpec(id="bench-fund", debit_account_id=funding.id, credit_account_id=src.id, amount=10**9))
    t1 = time.perf_counter()
    for i in range(n):
        r = ledger.create_transfer(TransferSpec(id=f"bench-{uuid.uuid4().hex}-{i}", debit_account_id=src.id,
                                                credit_account_id=dst.id, amount=100))
        assert r.ok
    ledger_elapsed = time.perf_counter() - t1
    db.dispose()
    per_event.sort()
    return {
        "conversations_per_s": n / elapsed,
        "events_per_s": 3 * n / elapsed,
        "p50_ms": statistics.median(per_event) * 1000,
        "p99_ms": per_event[int(len(per_event) * 0.99) - 1] * 1000,
        "ledger_transfers_per_s": n / ledger_elapsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conversations", type=int, default=300)
    ap.add_argument("--no-pg", action="store_true", help="SQLite only")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--big", action="store_true", help="seed 100,000 users and 1,000,000 transfers first (default setting only)")
    args = ap.parse_args()
    costs = [("argon2id t=2 m=19MiB (default)", 2, 19456), ("argon2id t=1 m=1MiB (bench floor)", 1, 1024)]
    if args.big:
        costs = costs[:1]
    with tempfile.TemporaryDirectory() as tmp:
        targets = [] if args.no_sqlite else [("sqlite", f"sqlite:///{tmp}/bench.db")]
        pg_name = None
        if not args.no_pg:
            pg_name = "finbot_bench_" + uuid.uuid4().hex[:8]
            targets.append(("postgres", f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"))
        for label, t_cost, mem in costs:
            for db_name, url in targets:
                if db_name == "postgres":
                    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
                        conn.execute(f'CREATE DATABASE "{pg_name}"')
                else:
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
                res = run(url, args.conversations, t_cost, mem, args.big)
                print(f"{db_name:8s} {label:36s} conversations/s={res['conversations_per_s']:.0f} "
                      f"events/s={res['events_per_s']:.0f} p50={res['p50_ms']:.2f}ms p99={res['p99_ms']:.2f}ms "
                      f"ledger-only transfers/s={res['ledger_transfers_per_s']:.0f} "
                      f"ratio engine/ledger={res['conversations_per_s'] / res['ledger_transfers_per_s']:.2f}"
                      + (" book=big" if args.big else ""), flush=True)
        if pg_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
