"""Standing orders' domain (bot/standing): recurrence in a zone, ends, occurrences, misfires, retries, the claim."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from adapters.funding.sandbox import SandboxFunding
from bot.db import migrate_all
from bot.execution import Executor, Outcome
from bot.models import Schedule, User
from bot.standing import store
from bot.standing.clock import SchedulerClock
from bot.standing.ends import End, read_end
from bot.standing.models import DONE, DUE, SKIPPED, Occurrence
from bot.standing.recurrence import Recurrence, UnknownZone, zone
from bot.standing.runner import Policy, next_wake, run_id_for, tick
from ledger import Ledger, create_engine

MON = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)  # a Monday, after the run hour


# ---------------------------------------------------------------- recurrence (pure)


def test_next_three_mondays_at_the_local_hour() -> None:
    rec = Recurrence("FREQ=WEEKLY;BYDAY=MO", datetime(2026, 11, 17, 9, 0), "Europe/Oslo")
    runs = rec.next_after(MON, 3)
    assert runs == [datetime(2026, 11, 23, 8, 0, tzinfo=UTC), datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
                    datetime(2026, 12, 7, 8, 0, tzinfo=UTC)]


def test_dst_autumn_in_oslo_neither_skips_nor_doubles() -> None:
    # clocks go back 03:00 -> 02:00 on Sunday 25 October 2026: 02:30 happens twice that night
    for hour, minute in ((9, 0), (2, 30)):
        rec = Recurrence("FREQ=DAILY", datetime(2026, 10, 21, hour, minute), "Europe/Oslo")
        runs = rec.between(datetime(2026, 10, 21, tzinfo=UTC), datetime(2026, 10, 28, tzinfo=UTC))
        local = [r.astimezone(zone("Europe/Oslo")) for r in runs]
        assert [d.date() for d in local] == [date(2026, 10, d) for d in range(21, 28)]
        assert {(d.hour, d.minute) for d in local} == {(hour, minute)}
        assert len(set(runs)) == 7
    nine = Recurrence("FREQ=DAILY", datetime(2026, 10, 24, 9), "Europe/Oslo").next_after(datetime(2026, 10, 23, tzinfo=UTC), 2)
    assert [r.hour for r in nine] == [7, 8]  # 09:00 CEST is 07:00 UTC, 09:00 CET 08:00 UTC


def test_dst_spring_gap_runs_once() -> None:
    # 28 March 2027, 02:00 -> 03:00: 02:30 does not exist that day; it runs once, at 03:30 local
    rec = Recurrence("FREQ=DAILY", datetime(2027, 3, 26, 2, 30), "Europe/Oslo")
    runs = rec.between(datetime(2027, 3, 26, tzinfo=UTC), datetime(2027, 3, 31, tzinfo=UTC))
    local = [r.astimezone(zone("Europe/Oslo")) for r in runs]
    assert [d.day for d in local] == [26, 27, 28, 29, 30]
    assert (local[2].hour, local[2].minute) == (3, 30)
    assert len(set(runs)) == 5


def test_ends_count_and_until() -> None:
    rec = Recurrence("FREQ=WEEKLY;BYDAY=MO", datetime(2026, 11, 17, 9), "UTC", count=3)
    assert len(rec.next_after(MON, 10)) == 3
    rec = Recurrence("FREQ=MONTHLY;BYMONTHDAY=1", datetime(2026, 11, 17, 9), "UTC", until=date(2027, 3, 31))
    assert [r.month for r in rec.next_after(MON, 10)] == [12, 1, 2, 3]
    with pytest.raises(UnknownZone):
        zone("Mars/Olympus")


@pytest.mark.parametrize(("text", "end"), [
    ("every monday send @mom 50 10 times", End(count=10)),
    ("hver mandag send 200 kr til @ola 4 ganger", End(count=4)),
    ("envoie 20 € à @lea tous les lundis 6 fois", End(count=6)),
    ("every monday send @mom 50 until March", End(until=date(2027, 3, 31))),
    ("hver måned send 200 kr til @ola til mars", End(until=date(2027, 3, 31))),
    ("tous les mois 20 € à @lea jusqu'en mars", End(until=date(2027, 3, 31))),
    ("every monday send @mom 50 until 15 january 2027", End(until=date(2027, 1, 15))),
    ("every monday send @mom 50", End()),
    ("hver mandag send 200 kr til @ola", End()),
])
def test_read_end(text: str, end: End) -> None:
    assert read_end(text, date(2026, 12, 3)) == end


# ---------------------------------------------------------------- on a database


@dataclass
class Book:
    db: sa.Engine
    ledger: Ledger
    ex: Executor
    alice: int
    mom: int

    def fund(self, who: int, minor: int, tag: str) -> None:
        assert self.ex.run(f"fund-{tag}", "deposit", {"currency": "USD", "amount": minor, "from_user": who}).ok

    def cash(self, who: int) -> int:
        return self.ledger.balance(self.ex.wallet(who, "USD")).posted

    def send(self, rid: str, kind: str, payload: dict[str, Any]) -> Outcome:
        return self.ex.run(rid, kind, payload)


@pytest.fixture
def book(request: pytest.FixtureRequest) -> Iterator[Book]:
    """A funded pair on the database the test names (db_url: both; sqlite_url: SQLite only, for pure policy)."""
    url = request.getfixturevalue("db_url" if "db_url" in request.fixturenames else "sqlite_url")
    db = create_engine(url)
    migrate_all(db)
    ledger = Ledger(db)
    with Session(db, expire_on_commit=False) as s:
        a, m = User(handle="alice", created_at=MON), User(handle="mom", created_at=MON)
        s.add(a), s.add(m)
        s.commit()
        assert a.id is not None and m.id is not None
        ids = a.id, m.id
    yield Book(db, ledger, Executor(ledger=ledger, funding=SandboxFunding()), *ids)
    report = ledger.check()
    assert report.ok, report.problems
    db.dispose()


def pay(b: Book, minor: int) -> dict[str, Any]:
    return {"kind": "send", "currency": "USD", "from_user": b.alice, "note": None, "fee": 0,
            "legs": [{"to_user": b.mom, "handle": "mom", "label": "@mom", "amount": minor, "escrow": False}]}


def make(b: Book, payload: dict[str, Any], rule: str | None = "FREQ=WEEKLY;BYDAY=MO", *, kind: str = "send",
         now: datetime = MON, end: End = End(), tz: str = "UTC", action: str = "act-1") -> int:
    with Session(b.db, expire_on_commit=False) as s:
        row = store.create(s, action_id=action, user_id=b.alice, kind=kind, payload=payload, rule=rule, when=None,
                           end=end, now=now, tz=tz, hour=9)
        assert row is not None and row.id is not None
        s.commit()
        return row.id


def occurrences(b: Book, sid: int) -> list[Occurrence]:
    with Session(b.db) as s:
        return list(s.exec(select(Occurrence).where(Occurrence.schedule_id == sid).order_by(Occurrence.due_at)).all())


def step(b: Book, start: datetime, end: datetime, policy: Policy, run: Any = None) -> list[Any]:
    """Drive the tick as the scheduler clock does: wake at each due instant up to `end`."""
    clock = SchedulerClock(lambda now: next_wake(b.db, now, policy),
                           lambda now: tick(b.db, now, policy, run or b.send).reports)
    return [r for reports in clock.advance(start, end, lambda _now: None) for r in reports]


def test_weekly_runs_once_a_week_with_ids_from_the_occurrence(book: Book, db_url: str) -> None:
    book.fund(book.alice, 50_00, "a")
    sid = make(book, pay(book, 10_00))
    reports = step(book, MON, MON + timedelta(days=28), Policy())
    assert [r.what for r in reports] == ["ran"] * 4
    assert book.cash(book.mom) == 40_00 and book.cash(book.alice) == 10_00
    rows = occurrences(book, sid)
    assert [r.status for r in rows] == [DONE] * 4 and not any(r.late for r in rows)
    for r in rows:
        assert book.ledger.lookup_transfer(f"{r.run_id}:0") is not None
        assert r.run_id == run_id_for("act-1", r.due_at.replace(tzinfo=UTC), 0)
    # ticking again (another worker, a restart) runs nothing twice
    assert tick(book.db, MON + timedelta(days=28), Policy(), book.send).ran == 0
    assert book.cash(book.mom) == 40_00


def test_misfire_payments_run_the_bound_oldest_first_and_report_the_skipped(book: Book, db_url: str) -> None:
    book.fund(book.alice, 100_00, "a")
    sid = make(book, pay(book, 5_00))
    # the bot was down for six Mondays: one tick on start
    reports = tick(book.db, MON + timedelta(days=42, hours=1), Policy(misfire_bound=3), book.send).reports
    skipped = [r for r in reports if r.what == "skipped"]
    ran = [r for r in reports if r.what == "ran"]
    assert len(skipped) == 1 and len(skipped[0].skipped) == 3
    assert len(ran) == 3 and all(r.late for r in ran)
    assert [r.due_at for r in ran] == sorted(r.due_at for r in ran)
    assert ran[0].due_at > skipped[0].skipped[-1]
    assert book.cash(book.mom) == 15_00
    assert [o.status for o in occurrences(book, sid)] == [SKIPPED] * 3 + [DONE] * 3


def test_misfire_recurring_buy_runs_only_the_latest(book: Book, sqlite_url: str) -> None:
    calls: list[str] = []

    def buy(rid: str, kind: str, payload: dict[str, Any]) -> Outcome:
        calls.append(rid)
        return Outcome(True, "accepted")

    sid = make(book, {"kind": "buy", "symbol": "VOO", "currency": "USD", "from_user": book.alice, "notional": "10"}, kind="buy")
    reports = tick(book.db, MON + timedelta(days=35, hours=1), Policy(misfire_bound=3), buy).reports
    assert len(calls) == 1 and calls[0].startswith("act-1@20261221")
    assert [r.what for r in reports] == ["skipped", "ran"]
    assert [o.status for o in occurrences(book, sid)] == [SKIPPED] * 4 + [DONE]


def test_want_of_funds_retries_once_then_skips_to_the_next(book: Book, db_url: str) -> None:
    sid = make(book, pay(book, 20_00))
    pol = Policy(retry_after=timedelta(hours=4))
    first = MON + timedelta(days=7) - timedelta(hours=3)  # Monday 23 Nov 09:00
    reports = tick(book.db, first, pol, book.send).reports
    assert [r.what for r in reports] == ["retry"] and reports[0].retry_at == first + timedelta(hours=4)
    book.fund(book.alice, 25_00, "late")  # recovery before the retry
    assert tick(book.db, first + timedelta(hours=3), pol, book.send).ran == 0  # not yet
    reports = tick(book.db, first + timedelta(hours=4), pol, book.send).reports
    assert [r.what for r in reports] == ["ran"]
    assert book.cash(book.mom) == 20_00
    occ = occurrences(book, sid)[0]
    assert occ.status == DONE and occ.run_id is not None and occ.run_id.endswith(":try1")
    # the next Monday fails twice: given up until the one after, and said so
    second = first + timedelta(days=7)
    assert [r.what for r in tick(book.db, second, pol, book.send).reports] == ["retry"]
    reports = tick(book.db, second + timedelta(hours=4), pol, book.send).reports
    assert [r.what for r in reports] == ["gave_up"] and reports[0].next_at == second + timedelta(days=7)
    assert book.cash(book.mom) == 20_00


def test_pause_resume_stop(book: Book, sqlite_url: str) -> None:
    book.fund(book.alice, 100_00, "a")
    sid = make(book, pay(book, 1_00))
    step(book, MON, MON + timedelta(days=7), Policy())
    with Session(book.db) as s:
        store.pause(s, book.alice, sid)
        s.commit()
    step(book, MON + timedelta(days=7), MON + timedelta(days=21), Policy())
    assert book.cash(book.mom) == 1_00  # nothing while paused
    with Session(book.db) as s:
        store.resume(s, book.alice, sid, MON + timedelta(days=21))
        s.commit()
    step(book, MON + timedelta(days=21), MON + timedelta(days=35), Policy())
    assert book.cash(book.mom) == 3_00  # paused weeks are not made up
    with Session(book.db) as s:
        with pytest.raises(store.NotYours):
            store.stop(s, book.mom, sid, MON)
        store.stop(s, book.alice, sid, MON + timedelta(days=35))
        s.commit()
        assert store.live(s, book.alice) == []
    step(book, MON + timedelta(days=35), MON + timedelta(days=70), Policy())
    assert book.cash(book.mom) == 3_00


def test_matching_by_words(book: Book, sqlite_url: str) -> None:
    make(book, pay(book, 1_00), action="a1")
    make(book, pay(book, 2_00), rule="FREQ=MONTHLY;BYMONTHDAY=1", action="a2")
    make(book, {"kind": "buy", "symbol": "VOO", "currency": "USD", "from_user": book.alice, "notional": "10"},
         kind="buy", action="a3")
    with Session(book.db) as s:
        assert len(store.matching(s, book.alice, recipients=("@mom",))) == 2
        assert len(store.matching(s, book.alice, recipients=("@mom",), rule="FREQ=WEEKLY;BYDAY=MO")) == 1
        assert [m.row.action_id for m in store.matching(s, book.alice, symbol="VOO")] == ["a3"]
        assert store.matching(s, book.alice, recipients=("@ola",)) == []


def test_reminder_the_day_before_once(book: Book, sqlite_url: str) -> None:
    book.fund(book.alice, 500_00, "a")
    make(book, pay(book, 150_00))
    pol = Policy(remind_above=100_00)
    sunday = MON + timedelta(days=6, hours=-2)  # Sunday 22 Nov 10:00, within a day of Monday 09:00
    assert [r.what for r in tick(book.db, sunday, pol, book.send).reports] == ["reminder"]
    assert tick(book.db, sunday + timedelta(hours=1), pol, book.send).reports == []
    assert [r.what for r in step(book, sunday, sunday + timedelta(days=1), pol)] == ["ran"]


def test_a_crash_between_run_and_mark_leaves_it_due_then_once(book: Book, db_url: str) -> None:
    """A real process killed (SIGKILL) after the ledger wrote the payment, before the occurrence was marked."""
    book.fund(book.alice, 50_00, "a")
    sid = make(book, pay(book, 10_00))
    due = MON + timedelta(days=7, hours=-3)
    env = {**os.environ, "FINBOT_CRASH_AT": "standing_after_run"}
    proc = subprocess.run([sys.executable, "-m", "tests.bot.standing_worker", "once", db_url, due.isoformat()],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    occ = occurrences(book, sid)
    assert [o.status for o in occ] == [DUE]
    assert book.cash(book.mom) == 10_00  # the money moved; the row is still due
    later = lambda: datetime.now(UTC) + timedelta(minutes=5)  # noqa: E731  (past SQLite's lease)
    result = tick(book.db, due, Policy(), book.send, wall=later)
    assert [r.what for r in result.reports] == ["ran"]
    assert [o.status for o in occurrences(book, sid)] == [DONE]
    assert book.cash(book.mom) == 10_00  # once
    with Session(book.db) as s:
        assert s.get(Schedule, sid) is not None


def test_payload_kept_as_confirmed(book: Book, sqlite_url: str) -> None:
    sid = make(book, pay(book, 7_00))
    with Session(book.db) as s:
        row = s.get(Schedule, sid)
        assert row is not None and json.loads(row.payload)["legs"][0]["amount"] == 7_00
        assert row.anchor == "2026-11-17T09:00:00" and row.next_run is not None


def test_a_count_end_reaches_the_card_and_the_series(world: Any) -> None:
    """ "every monday send @mom 50 10 times": the parser reads 10 as the series' end, not a second
    amount, so the card says "Ends after 10 runs." and the series stops after ten."""
    from sqlmodel import Session, select

    from bot.models import Schedule
    from tests.bot.test_engine import onboard

    onboard(world, "alice", topup="$100")
    onboard(world, "mom", pin="5182")
    card = world.render(world.say("alice", "dm", "every monday send @mom 50 10 times"))[-1]
    assert "$50.00" in card["text"] and "Ends after 10 runs." in card["text"], card
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    with Session(world.db) as s:
        row = s.exec(select(Schedule)).one()
    assert row.count == 10 and row.status == "active"


@pytest.mark.parametrize(("lang", "pause", "resume"), [
    ("en", "pause my weekly payment to @mom", "resume my weekly payment to @mom"),
    ("nb", "sett den faste betalingen til @mom på pause", "gjenoppta den faste betalingen til @mom"),
    ("fr", "suspends le virement hebdomadaire à @mom", "reprends le virement hebdomadaire à @mom"),
])
def test_pause_and_resume_by_words(world: Any, lang: str, pause: str, resume: str) -> None:
    """Pause and resume by message, in en, nb and fr: the order keeps its rhythm, nothing runs while paused."""
    from sqlmodel import Session, select

    from bot.models import Schedule
    from tests.bot.test_engine import onboard

    onboard(world, "alice", topup="$100")
    onboard(world, "mom", pin="5182")
    world.render(world.say("alice", "dm", "every monday send @mom 5"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    world.render(world.say("alice", "dm", f"/lang {lang}"))

    def status() -> str:
        with Session(world.db) as s:
            return s.exec(select(Schedule)).one().status

    assert status() == "active"
    world.render(world.say("alice", "dm", pause))
    assert status() == "paused"
    world.render(world.say("alice", "dm", resume))
    assert status() == "active"
