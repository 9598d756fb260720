"""Several workers on one PostgreSQL (issue 17): outbox rows and due work are each claimed by one process.

Real processes and real SIGKILLs: senders claiming one outbox (each reply sent once, each chat in order, a
killed sender's rows taken over), and sweepers racing a claimer for the same escrows (each pays once)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import outbox
from bot.events import Reply, ReplyKind

ROOT = Path(__file__).resolve().parents[2]


def _spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FINBOT_CRASH")}
    return subprocess.Popen([sys.executable, *args], cwd=ROOT,
                            env={**base, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": "", **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_outbox_claims_across_processes_send_each_reply_once_and_in_order(pg_url: str, tmp_path: Path) -> None:
    db = sa.create_engine(pg_url)
    outbox.ensure(db)
    chats, per_chat = 12, 15
    with db.begin() as conn:
        for i in range(per_chat):  # interleaved, as replies of many chats arrive
            outbox.enqueue(conn, "telegram", [Reply(ReplyKind.message, str(1000 + c), f"reply {i}") for c in range(chats)],
                           f"update:{i}")
    log = tmp_path / "sent.log"
    worker = ("-m", "tests.bot.claims_worker", pg_url)
    procs = {name: _spawn(*worker, name, str(log), *(["4"] if name == "w1" else [])) for name in ("w1", "w2", "w3")}
    assert procs["w1"].wait(60) == -9, procs["w1"].stderr.read() if procs["w1"].stderr else ""
    with db.connect() as conn:
        held = conn.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE claimed_by = 'w1' "
                                    "AND status = 'pending' AND lease_until > 0")).scalar()
    procs["w1"] = _spawn(*worker, "w1", str(log))  # the killed sender again, under its name
    for name, p in procs.items():
        assert p.wait(60) == 0, (name, p.stderr.read() if p.stderr else "")
    lines = [line.split() for line in log.read_text().splitlines()]
    sent = Counter(int(row) for _, row, _ in lines)
    with db.connect() as conn:
        rows = {int(r.id): str(r.chat_id) for r in conn.execute(sa.text("SELECT id, chat_id FROM outbox_messages"))}
        statuses = Counter(conn.execute(sa.text("SELECT status FROM outbox_messages")).scalars())
    assert set(sent) == set(rows) and all(n == 1 for n in sent.values()), "each reply sent exactly once"
    assert statuses == {"sent": chats * per_chat}
    order: dict[str, list[int]] = defaultdict(list)
    for chat, row, _ in lines:
        order[chat].append(int(row))
    assert all(ids == sorted(ids) for ids in order.values()), "each chat's replies in order"
    assert len({name for _, _, name in lines}) == 3, "all three senders took part"
    assert held, "the killed sender held leases it never settled (its successor sent them)"
    db.dispose()


def test_sweepers_and_a_claimer_in_processes_pay_each_escrow_once(world: object, db_url: str, tmp_path: Path) -> None:
    """Escrows due for return while their payees claim them: two sweepers (one SIGKILLed after its first
    return reached the ledger) and a claimer, at once, on the same rows; each escrow is paid exactly once."""
    if not db_url.startswith("postgresql"):
        pytest.skip("one process per SQLite file: the race of several workers is PostgreSQL's")
    from bot import escrow
    from tests.bot.test_escrow import START, _green, _rows, _send, balance, onboard

    n = 4
    onboard(world, "alice", topup="$100")
    for i in range(n):
        world.set_now(START + timedelta(minutes=i))  # type: ignore[attr-defined]
        _send(world, f"payee{i}")
    later = (START + timedelta(days=8)).isoformat()
    procs = [
        _spawn("-m", "tests.bot.processes", "sweep", db_url, later,
               env={"FINBOT_CRASH_AT": "escrow_return_committed", "FINBOT_CRASH_SKIP": "1"}),
        _spawn("-m", "tests.bot.processes", "sweep", db_url, later),
        *[_spawn("-m", "tests.bot.processes", "say", db_url, later, f"payee{i}", "/start") for i in range(0, n, 2)],
    ]
    codes = [p.wait(120) for p in procs]
    assert codes[0] in (0, -9) and all(c == 0 for c in codes[1:]), [(c, p.stderr.read()[-800:] if p.stderr else "")
                                                                     for c, p in zip(codes, procs, strict=True)]
    again = _spawn("-m", "tests.bot.processes", "sweep", db_url, later)  # what a killed sweeper left is finished
    assert again.wait(120) == 0
    rows = _rows(world)
    fates = Counter()
    paid_out = 0
    for i in range(n):
        row = rows[f"payee{i}"]
        fate = escrow.fate(world.engine.ledger, row.transfer_id)  # type: ignore[attr-defined]
        assert row.status == fate in (escrow.CLAIMED, escrow.RETURNED), (i, row.status, fate)
        got = balance(world, f"payee{i}") if i % 2 == 0 else 0  # the odd payees never wrote to the bot
        paid_out += got
        fates[fate] += 1
        if i % 2:
            assert fate == escrow.RETURNED, "nobody claimed the odd ones"
    assert balance(world, "alice") == 10000 - paid_out
    _green(world)


def test_a_sender_whose_lease_ran_out_and_was_taken_over_does_not_send_the_reply(db_url: str) -> None:
    """The fence before a send (and the renewal while it lasts): a worker stalled past its lease finds the row
    another worker's, so only one of them sends it; a worker still holding its lease keeps it."""
    db = sa.create_engine(db_url)
    outbox.ensure(db)
    with db.begin() as conn:
        outbox.enqueue(conn, "telegram", [Reply(ReplyKind.message, "42", "hello")], "update:1")
    (a,) = outbox.claim(db, "telegram", "w-a", now=1000.0, lease_seconds=10)
    assert outbox.renew(db, a.id, "w-a", lease_seconds=10, now=1005.0), "a live lease is renewed"
    assert not outbox.claim(db, "telegram", "w-b", now=1012.0, lease_seconds=10), "renewed: not claimable yet"
    (b,) = outbox.claim(db, "telegram", "w-b", now=1016.0, lease_seconds=10)  # w-a stalled past its lease
    assert b.id == a.id
    assert not outbox.renew(db, a.id, "w-a", lease_seconds=10, now=1017.0), "w-a must not send it now"
    assert outbox.renew(db, b.id, "w-b", lease_seconds=10, now=1017.0)
    assert outbox.mark_sent(db, b.id, "m1")
    assert not outbox.renew(db, b.id, "w-b", lease_seconds=10), "a settled row is nobody's to send"
    db.dispose()


_START_TABLES = """
import sys, time
from adapters.cli.wiring import DbStateStore
from adapters.telegram.store import TelegramStore
from ledger import create_engine
db = create_engine(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # every process at the same moment
TelegramStore(db)
DbStateStore(db)
"""


def test_workers_starting_at_once_create_the_tables_made_on_demand_without_a_race(pg_url: str) -> None:
    """`finbot run --workers N` starts its workers together: each creates the transport's, outbox's and paper
    broker's tables when missing; without a lock around it, CREATE TABLE races and some workers die at start."""
    import time

    at = str(time.time() + 4)
    procs = [_spawn("-c", _START_TABLES, pg_url, at) for _ in range(4)]
    errors = [(p.wait(60), p.stderr.read().decode()[-300:] if p.stderr else "") for p in procs]
    assert all(code == 0 for code, _ in errors), errors
    db = sa.create_engine(pg_url)
    names = set(sa.inspect(db).get_table_names())
    db.dispose()
    assert {"tg_state", "tg_inbox", "outbox_messages", "outbox_dead_letters"} <= names
