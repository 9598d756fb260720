"""Several workers on one PostgreSQL against the loopback Bot API server: counts that must be zero, and updates/s.

People (in groups of `--group-size`, each also in a private chat with the bot) onboard (/start, /pin, the PIN
twice), top up (card, Confirm, PIN), then act: private sends to a group mate (with a replayed Confirm press),
group splits (a press by the wrong person, then the initiator's), group requests, balance questions and
history. The workload runs against 1, 2 and 3 worker processes (`finbot run`'s transport with the real engine,
on one fresh PostgreSQL database each), and one worker is SIGKILLed and started again during each run.

Every reply a worker sends carries its outbox row id (a marker appended by the bench's worker), so the server's
log tells: duplicate replies (a row id sent twice; a press answered twice; a message deleted twice), lost replies
(an outbox row never sent, or a private message that got no reply row at all), the per-chat order (row ids of
one chat in increasing order), and double executions (an action with ledger transfers under two attempts, or a
person's wallet that differs from the driver's own model of what it should hold).

    .venv/bin/python bench/workers.py [--people 2000 --groups 50] [--workers 1,2,3] [--quick]

Not a test: it prints what it saw, including anything that went wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from tests.tools.botapi_server import BotApiServer, User  # noqa: E402

PG_ADMIN = os.environ.get("FINBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BOT = "finbot_test_bot"
MARK = "\u2063#"
KILL = [True]
STEP_TIMEOUT = [120.0]  # invisible separator + '#': what follows is the outbox row id


# ---------------------------------------------------------------------------------------------- the worker

def worker_main() -> None:
    """One worker process: the real engine behind the real transport, marking each reply with its row id."""
    import dataclasses
    import logging

    from adapters.cli.wiring import build_broker
    from adapters.funding.sandbox import SandboxFunding
    from adapters.telegram import app as tg_app
    from adapters.telegram.flood import FloodLimits
    from adapters.telegram.outbox import OutboxPolicy
    from bot.bootstrap import build_engine
    from bot.config import load_settings
    from bot.events import ReplyKind
    from ledger import create_engine

    logging.basicConfig(level=getattr(logging, os.environ.get("BENCH_LOG", "WARNING")), format=f"%(asctime)s w{os.environ.get('FINBOT_WORKER_SLOT')} "
                                                      "%(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    db = create_engine(settings.database_url)
    engine = build_engine(settings, messenger="telegram", funding=SandboxFunding(),
                          broker=build_broker(settings, db, None), db=db)
    deliver = tg_app.Transport._deliver

    async def marked(self: Any, row: Any, *args: Any) -> bool:
        r = row.reply
        if r is not None and r.kind in (ReplyKind.message, ReplyKind.edit) and r.text:
            row = dataclasses.replace(row, reply=dataclasses.replace(r, text=f"{r.text}{MARK}{row.id}"))
        return await deliver(self, row, *args)

    tg_app.Transport._deliver = marked  # type: ignore[method-assign]
    policy = OutboxPolicy(max_attempts=5, backoff_base=0.2, backoff_cap=2.0, idle_seconds=0.2, wait_seconds=0.0,
                          lease_seconds=10.0, inbox_idle_seconds=0.05, leader_retry_seconds=0.5, max_inbox=400)
    tg_app.run(settings, engine, limits=FloodLimits.off(), poll_timeout=1, tick_seconds=5.0, outbox=policy,
               min_poll_gap=0.05)


# ---------------------------------------------------------------------------------------------- the server

class CountingServer(BotApiServer):
    """The loopback server, indexing what the bot sends per chat (the driver waits on it cheaply)."""

    def __init__(self) -> None:
        super().__init__(bot_username=BOT)
        self.by_chat: dict[int, list[int]] = defaultdict(list)   # bot message ids in order
        self.marks: list[tuple[int, int, str]] = []               # (chat, outbox row, method)
        self.failed: Counter[str] = Counter()
        self.answered: set[str] = set()

    def handle(self, method: str, params: Any, files: Any) -> Any:
        name = method.lower()
        try:
            result = super().handle(method, params, files)
        except Exception as exc:
            with self._cond:
                self.failed[f"{name}: {str(getattr(exc, 'description', exc))[:60]}"] += 1
            raise
        with self._cond:
            if name in ("sendmessage", "sendphoto", "senddocument", "editmessagetext"):
                text = str(params.get("text") or params.get("caption") or "")
                if MARK in text:
                    self.marks.append((int(params["chat_id"]), int(text.rsplit(MARK, 1)[1]), name))
                if name != "editmessagetext" and isinstance(result, dict):
                    self.by_chat[int(result["chat"]["id"])].append(int(result["message_id"]))
            elif name == "answercallbackquery":
                self.answered.add(str(params.get("callback_query_id")))
        return result

    def bot_messages(self, chat: int, since: int) -> list[Any]:
        with self._cond:
            ids = self.by_chat.get(chat, [])[since:]
            return [self._seen(self._messages[(chat, m)]) for m in ids if (chat, m) in self._messages]

    def count(self, chat: int) -> int:
        with self._cond:
            return len(self.by_chat.get(chat, []))


# ---------------------------------------------------------------------------------------------- the driver

@dataclass
class Person:
    """One person the driver plays: their steps, what they wait for, what their wallet should hold."""

    user: User
    pin: str
    group: int
    mates: list[Person] = field(default_factory=list)
    steps: list[Any] = field(default_factory=list)
    wait: Any = None
    since: int = 0
    chat: int = 0
    deadline: float = 0.0
    card: Any = None
    cents: int = 0
    done: bool = False
    stuck: str = ""
    at_barrier: bool = False


def strong_pin(rng: random.Random) -> str:
    from bot.stepup import weak_pin

    while True:
        pin = f"{rng.randrange(10000):04d}"
        if weak_pin(pin) is None:
            return pin


class Driver:
    """Plays everyone at once: each person's next step as soon as what they wait for has arrived."""

    def __init__(self, server: CountingServer, people: int, group_size: int, seed: int = 7) -> None:
        self.s = server
        self.rng = random.Random(seed)
        self.sent = 0          # updates produced (messages, presses, replays)
        self.replays = 0
        self.wrong_presses = 0
        self.group_busy: dict[int, Person | None] = {}
        self.people: list[Person] = []
        users = [server.create_user(f"P{i}", f"p{i:05d}") for i in range(people)]
        for g in range(0, people, group_size):
            members = users[g:g + group_size]
            gid = server.create_group(f"G{g // group_size}", members[0], members[1:])
            self.group_busy[gid] = None
            group = [Person(u, strong_pin(self.rng), gid) for u in members]
            for p in group:
                p.mates = [q for q in group if q is not p]
            self.people += group
        self.sent += len(self.group_busy)  # the bot learns of each group by a new_chat_members update
        for i, p in enumerate(self.people):
            p.steps = self.plan(i, p)

    # -- the plan of one person
    def plan(self, i: int, p: Person) -> list[Any]:
        steps: list[Any] = [("say", "/start", "any"), ("say", "/pin", "any"), ("say", p.pin, "any"),
                            ("say", p.pin, "PIN is set"), ("say", "top up $100", "Confirm"),
                            ("press", "Confirm", "PIN"), ("pin", 10000, "any"), ("barrier", None, None)]
        kind = i % 4
        if kind == 0:
            to = p.mates[i % len(p.mates)]
            steps += [("send", to, "Confirm"), ("press_replay", "Confirm", "PIN"), ("pin_send", to, "any")]
        elif kind == 1:
            a, b = p.mates[(i + 1) % len(p.mates)], p.mates[(i + 2) % len(p.mates)]
            steps += [("group", f"@{BOT} split $30 with @{a.user.username} @{b.user.username}", "Cancel"),
                      ("wrong_press", "Confirm", None), ("group_press", "Confirm", "Pay"), ("free", None, None)]
        elif kind == 2:
            a = p.mates[(i + 3) % len(p.mates)]
            steps += [("say", "show balance", "any"),
                      ("group", f"@{BOT} request $5 from @{a.user.username}", "any"), ("free", None, None)]
        else:
            steps += [("say", "show balance", "any"), ("say", "history", "any")]
        return steps

    # -- acting
    def _expect(self, p: Person, chat: int, what: Any) -> None:
        p.wait, p.chat, p.since = what, chat, self.s.count(chat)
        p.deadline = time.monotonic() + STEP_TIMEOUT[0]

    def act(self, p: Person) -> None:
        s = self.s
        if not p.steps:
            p.done = True
            return
        verb, arg, want = p.steps[0]
        if verb in ("group", "group_press", "wrong_press") and self.group_busy.get(p.group) not in (None, p):
            return  # one group conversation at a time per group, so its card is the one the driver looks for
        if verb == "barrier":
            p.at_barrier = True
            if any(not q.at_barrier and not q.done for q in self.people):
                return
            p.steps.pop(0)
            return
        p.steps.pop(0)
        me = p.user
        if verb == "say":
            self._expect(p, me.id, want)
            s.send(me, arg)
        elif verb in ("press", "press_replay"):
            self._expect(p, me.id, want)
            s.press(me, p.card, arg)
            if verb == "press_replay":
                update_id = s.history()[-1]["update_id"]
                s.replay(update_id)
                self.replays += 1
                self.sent += 1
        elif verb in ("pin", "pin_send"):
            self._expect(p, me.id, want)
            s.send(me, p.pin)
            if verb == "pin":
                p.cents += arg
            else:
                p.cents -= 500
                arg.cents += 500
        elif verb == "send":
            self._expect(p, me.id, want)
            s.send(me, f"send $5 to @{arg.user.username}")
        elif verb == "group":
            self.group_busy[p.group] = p
            self._expect(p, p.group, want)
            s.send(me, arg, p.group)
        elif verb == "wrong_press":
            other = p.mates[-1]
            s.press(other.user, p.card, arg)   # a callback press by someone else: refused with an alert
            self.wrong_presses += 1
            p.wait = None
        elif verb == "group_press":
            self._expect(p, p.group, want)
            s.press(me, p.card, arg)
        elif verb == "free":
            self.group_busy[p.group] = None
            p.wait = None
            self.sent -= 1  # not an update
        self.sent += 1

    def ready(self, p: Person) -> bool:
        """Whether what `p` waits for has arrived (and remember the card it brought)."""
        if p.wait is None:
            return True
        fresh = self.s.bot_messages(p.chat, p.since)
        if p.card is not None and p.wait in ("Pay",):  # the card itself may be edited into what is awaited
            fresh = [self.s.message(p.card.chat_id, p.card.message_id), *fresh]
        for m in fresh:
            if p.wait == "any" or (p.wait in ("Confirm", "Cancel", "Pay") and any(p.wait in x for x in m.labels())) \
                    or (p.wait not in ("Confirm", "Cancel", "Pay") and p.wait in m.text):
                if m.buttons:
                    p.card = m
                p.wait = None
                return True
        if time.monotonic() > p.deadline:
            p.stuck = f"waited for {p.wait!r} in {p.chat}; saw {[m.text[:40] for m in fresh]}"
            p.done = True
            if self.group_busy.get(p.group) is p:
                self.group_busy[p.group] = None
        return False

    def run(self, on_progress: Any = None) -> None:
        """Until everyone is done (or stuck)."""
        while True:
            moved = False
            live = [p for p in self.people if not p.done]
            if not live:
                return
            for p in live:
                if self.ready(p):
                    before = len(p.steps)
                    self.act(p)
                    moved = moved or len(p.steps) != before or p.done
            if on_progress is not None:
                on_progress(self.sent)
            if not moved:
                time.sleep(0.01)


# ---------------------------------------------------------------------------------------------- one run

def new_database() -> str:
    import psycopg

    name = "finbot_bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name


def drop_database(url: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def spawn(slot: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    fh = log.open("ab")
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"],
                            env={**env, "FINBOT_WORKER_SLOT": str(slot)}, stdout=fh, stderr=subprocess.STDOUT,
                            cwd=str(_HERE.parent))


def one_run(n_workers: int, people: int, group_size: int, workdir: Path) -> dict[str, Any]:
    import sqlalchemy as sa

    from bot.db import migrate_all
    from ledger import create_engine

    url = new_database()
    db = create_engine(url)
    migrate_all(db)
    out: dict[str, Any] = {"workers": n_workers}
    server = CountingServer().start()
    log = workdir / f"workers-{n_workers}.log"
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": server.token, "TELEGRAM_API_BASE": server.base_url,
           "DATABASE_URL": url, "WEBHOOK_URL": "", "WORKERS": str(n_workers), "REDIS_URL": "",
           "PIN_KEY_FILE": str(workdir / "pin.key"), "OUTPUT_DIR": str(workdir / "out"),
           "PYTHONPATH": str(_HERE.parent)}
    procs = {i: spawn(i, env, log) for i in range(1, n_workers + 1)}
    try:
        server.wait_until(lambda: server.calls_of("deleteWebhook"), 60)
        time.sleep(3.0)
        dead = [i for i, p in procs.items() if p.poll() is not None]
        if dead:  # a run with fewer live workers than it says would report a false ratio
            raise RuntimeError(f"workers {dead} exited at start; see {log}")
        driver = Driver(server, people, group_size)
        total_planned = sum(len([s for s in p.steps if s[0] not in ("free", "barrier")]) for p in driver.people)
        kill_at = int(total_planned * 0.4)
        killed: dict[str, Any] = {}

        shown = [time.monotonic()]

        def progress(sent: int) -> None:
            if time.monotonic() - shown[0] > 5:
                shown[0] = time.monotonic()
                live = sum(1 for p in driver.people if not p.done)
                print(f"    [{n_workers} workers] {sent}/{total_planned} updates sent, {live} people still acting",
                      file=sys.stderr, flush=True)
            if not killed and sent >= kill_at and KILL[0]:
                victim = random.Random(n_workers).randrange(1, n_workers + 1)
                procs[victim].send_signal(signal.SIGKILL)
                procs[victim].wait()
                killed.update(slot=victim, at=sent, t=time.monotonic())
                time.sleep(1.0)
                procs[victim] = spawn(victim, env, log)

        t0 = time.perf_counter()
        driver.run(progress)
        # everything sent: wait until the inbox and the outbox are empty
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with db.connect() as conn:
                inbox = conn.execute(sa.text("SELECT count(*) FROM tg_inbox")).scalar()
                pending = conn.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE status='pending'")).scalar()
            if not inbox and not pending and not server.pending_updates():
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - t0
        out.update(elapsed=elapsed, killed=killed, updates_sent=driver.sent, replays=driver.replays,
                   wrong_presses=driver.wrong_presses, stuck=[p.stuck for p in driver.people if p.stuck])
        out["workers_alive_at_end"] = sum(1 for p in procs.values() if p.poll() is None)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    out.update(count(server, db, driver))
    server.stop()
    db.dispose()
    if not os.environ.get("FINBOT_KEEP_BENCH_DB"):
        drop_database(url)
    else:
        out["database"] = url
    return out


def count(server: CountingServer, db: Any, driver: Driver) -> dict[str, Any]:
    """The counts, from the server's log, the database and the ledger."""
    import sqlalchemy as sa

    from bot.escrow import reconcile
    from ledger import Ledger

    res: dict[str, Any] = {}
    with db.connect() as conn:
        res["updates_handled"] = conn.execute(sa.text("SELECT count(*) FROM tg_handled")).scalar()
        res["engine_events"] = conn.execute(sa.text("SELECT count(*) FROM bot_processed_events")).scalar()
        rows = conn.execute(sa.text("SELECT id, chat_id, source, status, payload FROM outbox_messages")).all()
        handled = {int(u) for u in conn.execute(sa.text("SELECT update_id FROM tg_handled")).scalars()}
        actions = conn.execute(sa.text("SELECT id, kind, status, attempt FROM bot_actions")).all()
        transfer_ids = list(conn.execute(sa.text("SELECT id FROM ledger_transfers")).scalars())
        dead = conn.execute(sa.text("SELECT count(*) FROM outbox_dead_letters")).scalar() if sa.inspect(conn).has_table(
            "outbox_dead_letters") else 0
        apologies = sum(1 for r in rows if "something went wrong" in r.payload)
    status = Counter(r.status for r in rows)
    res["outbox_rows"] = len(rows)
    res["outbox_status"] = dict(status)
    res["dead_letters"] = dead
    res["apologies"] = apologies
    marked = Counter(row for _, row, _ in server.marks)
    res["replies_sent"] = sum(1 for r in rows if r.status == "sent")
    res["bot_api_sends"] = len(server.marks) + len(server.answered)
    res["duplicate_replies"] = (sum(n - 1 for n in marked.values() if n > 1)
                                + server.failed.get("answercallbackquery: Bad Request: query is too old and response t", 0)
                                + sum(n for k, n in server.failed.items() if k.startswith("deletemessage")))
    message_rows = {int(r.id) for r in rows if json.loads(r.payload).get("kind") in ("message", "edit")
                    and json.loads(r.payload).get("text")}
    res["lost_replies_outbox"] = len(message_rows - set(marked)) + status.get("pending", 0)
    # a private message handled without any reply row: its replies were lost between engine and outbox
    sources = Counter(r.source for r in rows)
    silent = 0
    for u in server.history():
        msg = u.get("message")
        event = f"event:m:{msg['chat']['id']}:{msg['message_id']}" if msg else ""
        if msg and msg.get("chat", {}).get("type") == "private" and msg.get("text") and u["update_id"] in handled \
                and sources.get(f"update:{u['update_id']}", 0) == 0 and sources.get(event, 0) == 0:
            silent += 1
    res["lost_replies_unqueued"] = silent
    # per-chat order: the row ids of one chat go out in increasing order
    last: dict[int, int] = {}
    disorder = 0
    for chat, row, name in server.marks:
        if name == "sendmessage":
            if row < last.get(chat, 0):
                disorder += 1
            last[chat] = max(row, last.get(chat, 0))
    res["out_of_order"] = disorder
    # double executions: an action's transfers under two attempts; wallets against the driver's model
    prefixes: dict[str, set[str]] = defaultdict(set)
    ids = {str(a.id) for a in actions}
    for tid in transfer_ids:
        head = str(tid).split(":")[0]
        if head in ids:
            rest = str(tid)[len(head):]
            prefixes[head].add(rest.split(":")[1] if rest.startswith(":try") else "")
    res["double_executions"] = sum(1 for v in prefixes.values() if len(v) > 1)
    res["actions"] = dict(Counter(f"{a.kind}:{a.status}" for a in actions))
    ledger = Ledger(db)
    report = ledger.check()
    res["ledger_check"] = "green" if getattr(report, "ok", False) and not reconcile(db, ledger) else f"RED {report}"
    mismatch = 0
    with db.connect() as conn:
        uids = {str(e): int(u) for e, u in conn.execute(sa.text(
            "SELECT external_id, user_id FROM bot_identities WHERE messenger = 'telegram'")).all()}
    for p in driver.people:
        uid = uids.get(str(p.user.id))
        acc = ledger.find_account(f"user:{uid}", "USD", "wallet") if uid is not None else None
        have = ledger.balance(acc.id).posted if acc is not None else 0
        if have != p.cents:
            mismatch += 1
    res["wallets_unlike_model"] = mismatch
    res["failed_api_calls"] = dict(server.failed)
    return res


def main() -> None:
    if "--worker" in sys.argv:
        worker_main()
        return
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--group-size", type=int, default=40)
    ap.add_argument("--workers", default="1,2,3")
    ap.add_argument("--quick", action="store_true", help="80 people in 4 groups")
    ap.add_argument("--workdir", help="keep the workers' logs here (default: a temporary folder)")
    ap.add_argument("--no-kill", action="store_true", help="no SIGKILL during the runs")
    ap.add_argument("--step-timeout", type=float, default=120.0, help="seconds a person waits for a reply")
    args = ap.parse_args()
    KILL[0] = not args.no_kill
    STEP_TIMEOUT[0] = args.step_timeout
    people, size = (80, 20) if args.quick else (args.people, args.group_size)
    results = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = args.workdir or tmp_dir
        Path(tmp).mkdir(parents=True, exist_ok=True)
        for n in [int(x) for x in args.workers.split(",")]:
            r = one_run(n, people, size, Path(tmp))
            results.append(r)
            print(json.dumps(r, default=str), flush=True)
            if r.get("stuck"):
                print(f"  stuck people: {len(r['stuck'])}; first: {r['stuck'][:3]}", flush=True)
            logs = Path(tmp) / f"workers-{n}.log"
            errors = [line for line in logs.read_text(errors="replace").splitlines() if " ERROR " in line]
            print(f"  worker log: {len(errors)} ERROR lines; first: {errors[:3]}", flush=True)
    base = results[0]["updates_sent"] / results[0]["elapsed"]
    print(f"\nseveral workers on one PostgreSQL: {people} people in {people // size} groups, loopback Bot API")
    for r in results:
        rate = r["updates_sent"] / r["elapsed"]
        print(f"  {r['workers']} worker(s): {r['updates_sent']} updates in {r['elapsed']:.1f} s = {rate:.1f} updates/s "
              f"(x{rate / base:.2f}); handled {r['updates_handled']}, replies sent {r['replies_sent']}, "
              f"duplicates {r['duplicate_replies']}, lost {r['lost_replies_outbox']}+{r['lost_replies_unqueued']}, "
              f"out of order {r['out_of_order']}, double executions {r['double_executions']}, "
              f"wallets unlike the model {r['wallets_unlike_model']}, ledger {r['ledger_check']}, "
              f"killed worker {r['killed'].get('slot')} at update {r['killed'].get('at')}, "
              f"workers alive at the end {r.get('workers_alive_at_end')} of {r['workers']}")


if __name__ == "__main__":
    main()
