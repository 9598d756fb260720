"""The schedules' tick: write due occurrences, remind, claim each due one and run it exactly once.

Who runs an occurrence is decided by the database, never by the clock that woke the process:
- PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` on the occurrence row, held while it runs and until
  the row is marked done in the same transaction; a process killed in between drops its lock and the
  row is due again.
- SQLite: one writer at a time (BEGIN IMMEDIATE), so the claim is a short conditional update that
  leases the row (`claim_token`, `claimed_until` in wall time); a crashed holder's lease runs out and
  the row is due again.
Either way the transfer / order id derives from the occurrence (`run_id`), so running it again after
a crash finds the ledger entry already there (`exists`) and changes nothing.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.clock import aware
from bot.crash import crash_point
from bot.execution import Outcome
from bot.models import Schedule
from bot.operators.models import AccountStanding
from bot.standing.models import DONE, DUE, FAILED, SKIPPED, Occurrence
from bot.standing.recurrence import Recurrence

log = logging.getLogger("finbot.standing")

FUNDS = frozenset({"exceeds_credits", "insufficient_funds", "buying_power"})
LEASE = timedelta(seconds=60)  # SQLite: how long a claim holds before another worker may take the row over


class RunFn(Protocol):
    """Executes one occurrence: (run id, kind, payload) -> Outcome; idempotent on the run id."""

    def __call__(self, run_id: str, kind: str, payload: dict[str, Any]) -> Outcome: ...


AfterFn = Callable[[Session, Schedule, Occurrence, Outcome], None]


@dataclass(frozen=True)
class Policy:
    """The settings the tick reads (bot/config.py: schedule_*)."""

    misfire_bound: int = 3  # payments: at most this many missed runs run on start, the rest are skipped
    late_after: timedelta = timedelta(minutes=60)  # a run this long after its time "ran late"
    retry_after: timedelta = timedelta(hours=4)  # want of funds: one retry this much later
    remind_above: int | None = None  # minor units: payments above get a reminder the day before (None: never)


@dataclass(frozen=True)
class Report:
    """Something to tell the schedule's owner: a run, a failure, a retry, skipped runs, a reminder."""

    what: str  # ran, failed, retry, gave_up, skipped, reminder, finished
    schedule_id: int
    user_id: int
    kind: str
    payload: dict[str, Any]
    due_at: datetime
    code: str = "ok"
    late: bool = False
    retry_at: datetime | None = None
    next_at: datetime | None = None
    skipped: tuple[datetime, ...] = ()


@dataclass
class TickResult:
    """What one tick did; `reports` in the order they happened."""

    reports: list[Report] = field(default_factory=list)
    ran: int = 0
    errors: int = 0


def recurrence_of(row: Schedule) -> Recurrence:
    """A schedule row's timing as a Recurrence."""
    assert row.anchor is not None, "a schedule without an anchor predates bot/standing (see upgrade_legacy)"
    return Recurrence(rule=row.rrule or "FREQ=DAILY;COUNT=1", anchor=datetime.fromisoformat(row.anchor), tz=row.tz,
                      count=row.count, until=date.fromisoformat(row.until_day) if row.until_day else None)


def run_id_for(action_id: str, due_at: datetime, attempt: int) -> str:
    """The id an occurrence's transfers / order derive from: the series, the instant, the attempt."""
    base = f"{action_id}@{due_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return base if attempt <= 0 else f"{base}:try{attempt}"


def _is_pg(db: sa.Engine) -> bool:
    return db.dialect.name == "postgresql"


def _insert_ignore(db: sa.Engine, values: list[dict[str, Any]]) -> Any:
    table = Occurrence.__table__  # type: ignore[attr-defined]
    if _is_pg(db):
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).values(values).on_conflict_do_nothing(index_elements=["schedule_id", "due_at"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).values(values).on_conflict_do_nothing(index_elements=["schedule_id", "due_at"])


# ---------------------------------------------------------------- writing occurrences


def materialise(db: sa.Engine, now: datetime, policy: Policy) -> list[Report]:
    """Write a row for every occurrence of an active schedule due by `now`, with the misfire policy:
    payments run at most `misfire_bound` missed runs (the newest), buys and sells only the latest;
    older ones are written as skipped ("missed") and reported in one message."""
    reports: list[Report] = []
    for _ in range(10_000):
        with Session(db, expire_on_commit=False) as s:
            q = (select(Schedule).where(Schedule.status == "active", col(Schedule.next_run).is_not(None),
                                        col(Schedule.next_run) <= now).order_by(col(Schedule.next_run)).limit(1))
            if _is_pg(db):
                q = q.with_for_update(skip_locked=True)
            row = s.exec(q).first()
            if row is None:
                return reports
            first = aware(row.next_run)
            assert first is not None and row.id is not None
            rec = recurrence_of(row)
            times = [first, *rec.between(first, now)]
            upcoming = rec.next_after(now, 1)
            bound = max(1, policy.misfire_bound) if row.kind == "send" else 1
            skipped, due = times[:-bound], times[-bound:]
            values = [dict(schedule_id=row.id, due_at=t, run_after=t, status=SKIPPED, result="missed", done_at=now,
                           reported=True, late=False, attempt=0) for t in skipped]
            values += [dict(schedule_id=row.id, due_at=t, run_after=t, status=DUE, result=None, done_at=None,
                            reported=False, late=t < now - policy.late_after, attempt=0) for t in due]
            s.execute(_insert_ignore(db, values))
            moved = s.execute(sa.update(Schedule).where(col(Schedule.id) == row.id, col(Schedule.next_run) == first)
                              .values(next_run=upcoming[0] if upcoming else None, runs=Schedule.runs + len(times),
                                      status="active" if upcoming else "finished",
                                      active=bool(upcoming))).rowcount  # type: ignore[attr-defined]
            if moved != 1:
                s.rollback()  # another worker wrote them first
                continue
            if skipped:
                reports.append(Report("skipped", row.id, row.user_id, row.kind, json.loads(row.payload), skipped[-1],
                                      code="missed", skipped=tuple(skipped), next_at=due[0]))
            s.commit()
    return reports


def remind(db: sa.Engine, now: datetime, policy: Policy) -> list[Report]:
    """The day-before reminder for payments above the setting, once an occurrence (a conditional update)."""
    if policy.remind_above is None:
        return []
    reports: list[Report] = []
    horizon = now + timedelta(days=1)
    with Session(db, expire_on_commit=False) as s:
        rows = s.exec(select(Schedule).where(Schedule.status == "active", Schedule.kind == "send",
                                             col(Schedule.next_run).is_not(None), col(Schedule.next_run) <= horizon,
                                             col(Schedule.next_run) > now)).all()
        for row in rows:
            payload = json.loads(row.payload)
            if total_minor(payload) <= policy.remind_above:
                continue
            if aware(row.reminded_for) == aware(row.next_run):
                continue
            moved = s.execute(sa.update(Schedule).where(col(Schedule.id) == row.id, col(Schedule.next_run) == row.next_run,
                                                        sa.or_(col(Schedule.reminded_for).is_(None),
                                                               col(Schedule.reminded_for) != row.next_run))
                              .values(reminded_for=row.next_run)).rowcount  # type: ignore[attr-defined]
            if moved == 1:
                nxt = aware(row.next_run)
                assert nxt is not None and row.id is not None
                reports.append(Report("reminder", row.id, row.user_id, row.kind, payload, nxt))
        s.commit()
    return reports


def total_minor(payload: dict[str, Any]) -> int:
    """A payment's total in minor units (its legs, else its amount)."""
    legs = payload.get("legs")
    if legs:
        return sum(int(leg["amount"]) for leg in legs)
    return int(payload.get("amount") or 0)


# ---------------------------------------------------------------- claiming and running


def _due_query(now: datetime, skip: set[int]) -> Any:
    """The oldest due occurrence; those of frozen accounts are held (they stay due until the freeze is lifted)."""
    frozen = select(Schedule.id).where(col(Schedule.user_id).in_(
        select(AccountStanding.user_id).where(col(AccountStanding.frozen).is_(True))))
    q = select(Occurrence).where(Occurrence.status == DUE, col(Occurrence.run_after) <= now,
                                 col(Occurrence.schedule_id).not_in(frozen))
    if skip:
        q = q.where(col(Occurrence.id).not_in(skip))
    return q.order_by(col(Occurrence.run_after), col(Occurrence.id)).limit(1)


def run_due(db: sa.Engine, now: datetime, policy: Policy, run: RunFn, after: AfterFn | None = None,
            *, limit: int = 10_000, wall: Callable[[], datetime] | None = None) -> TickResult:
    """Claim and run due occurrences one by one, oldest first, until none is left (or `limit`)."""
    out = TickResult()
    skip: set[int] = set()
    wall = wall or (lambda: datetime.now(UTC))
    for _ in range(limit):
        try:
            got = (_one_pg if _is_pg(db) else _one_sqlite)(db, now, policy, run, after, skip, wall)
        except Exception:  # one bad occurrence never blocks the others: it stays due for the next tick
            log.exception("running an occurrence failed; it stays due")
            out.errors += 1
            continue
        if got is None:
            break
        if isinstance(got, Report):
            out.reports.append(got)
            out.ran += got.what in ("ran", "failed", "retry", "gave_up")
    return out


def _one_pg(db: sa.Engine, now: datetime, policy: Policy, run: RunFn, after: AfterFn | None, skip: set[int],
            wall: Callable[[], datetime]) -> Report | None | bool:
    with Session(db, expire_on_commit=False) as s:
        occ = s.exec(_due_query(now, skip).with_for_update(skip_locked=True)).first()
        if occ is None:
            return None
        assert occ.id is not None
        skip.add(occ.id)
        sched = s.get(Schedule, occ.schedule_id)
        assert sched is not None
        report, outcome = _execute(sched, occ, now, policy, run)
        _apply(s, sched, occ, report, outcome, now, after)
        s.commit()  # the mark and whatever `after` wrote, in the transaction that held the row lock
        return report


def _one_sqlite(db: sa.Engine, now: datetime, policy: Policy, run: RunFn, after: AfterFn | None, skip: set[int],
                wall: Callable[[], datetime]) -> Report | None | bool:
    token = secrets.token_hex(8)
    real = wall()
    with Session(db, expire_on_commit=False) as s:  # BEGIN IMMEDIATE: the one writer
        q = _due_query(now, skip).where(sa.or_(col(Occurrence.claimed_until).is_(None),
                                               col(Occurrence.claimed_until) < real))
        occ = s.exec(q).first()
        if occ is None:
            return None
        assert occ.id is not None
        skip.add(occ.id)
        occ.claim_token, occ.claimed_until = token, real + LEASE
        s.commit()
        occ_id = occ.id
    # run outside the write lock (the ledger is its own writer), then mark done if the lease is still ours
    with Session(db, expire_on_commit=False) as s:
        occ = s.get(Occurrence, occ_id)
        sched = s.get(Schedule, occ.schedule_id) if occ is not None else None
        assert occ is not None and sched is not None
        s.expunge_all()  # keep them loaded; the transaction ends when the session closes
    report, outcome = _execute(sched, occ, now, policy, run)
    with Session(db, expire_on_commit=False) as s:
        occ2 = s.get(Occurrence, occ_id)
        sched2 = s.get(Schedule, occ.schedule_id)
        if occ2 is None or sched2 is None or occ2.claim_token != token or occ2.status != DUE:
            s.rollback()
            return False  # the lease ran out and another worker finished it
        occ2.run_id = occ.run_id
        _apply(s, sched2, occ2, report, outcome, now, after)
        s.commit()
    return report


def _execute(sched: Schedule, occ: Occurrence, now: datetime, policy: Policy, run: RunFn) -> tuple[Report, Outcome]:
    """Run one claimed occurrence and decide what it becomes (the caller marks it)."""
    payload = json.loads(sched.payload)
    due = aware(occ.due_at)
    assert due is not None and sched.id is not None and occ.id is not None
    if sched.status not in ("active", "finished"):
        outcome = Outcome(False, sched.status)  # paused or stopped since it was written
        report = Report("skipped", sched.id, sched.user_id, sched.kind, payload, due, code=sched.status)
    else:
        rid = run_id_for(sched.action_id, due, occ.attempt)
        occ.run_id = rid
        outcome = run(rid, sched.kind, {**payload, "recurrence": None, "when": None})
        crash_point("standing_after_run")
        nxt = aware(sched.next_run)
        if outcome.ok:
            report = Report("ran", sched.id, sched.user_id, sched.kind, payload, due, code=outcome.code, late=occ.late,
                            next_at=nxt)
        elif outcome.code in FUNDS and occ.attempt == 0 and (nxt is None or now + policy.retry_after < nxt):
            report = Report("retry", sched.id, sched.user_id, sched.kind, payload, due, code=outcome.code,
                            late=occ.late, retry_at=now + policy.retry_after, next_at=nxt)
        elif outcome.code in FUNDS:
            report = Report("gave_up", sched.id, sched.user_id, sched.kind, payload, due, code=outcome.code,
                            late=occ.late, next_at=nxt)
        else:
            report = Report("failed", sched.id, sched.user_id, sched.kind, payload, due, code=outcome.code,
                            late=occ.late, next_at=nxt)
    return report, outcome


def _apply(s: Session, sched: Schedule, occ: Occurrence, report: Report, outcome: Outcome, now: datetime,
           after: AfterFn | None) -> None:
    """Mark the occurrence (and its schedule's last result) as the report says, in the caller's transaction."""
    if report.what == "retry":
        assert report.retry_at is not None
        occ.attempt, occ.run_after, occ.result = occ.attempt + 1, report.retry_at, report.code
    else:
        occ.status = {"ran": DONE, "skipped": SKIPPED}.get(report.what, FAILED)
        occ.result, occ.done_at = report.code, now
    occ.claim_token, occ.claimed_until = None, None
    s.add(occ)
    if report.what != "skipped":
        sched.last_result, sched.last_run_at = report.code if report.what != "ran" else "ok", now
        s.add(sched)
    if after is not None and report.what == "ran":
        after(s, sched, occ, outcome)


def tick(db: sa.Engine, now: datetime, policy: Policy, run: RunFn, after: AfterFn | None = None,
         *, wall: Callable[[], datetime] | None = None) -> TickResult:
    """The schedules' due work at `now`: write occurrences, send reminders, run every due one once."""
    reports = materialise(db, now, policy)
    reports += remind(db, now, policy)
    result = run_due(db, now, policy, run, after, wall=wall)
    result.reports[:0] = reports
    return result


def next_wake(db: sa.Engine, now: datetime, policy: Policy) -> datetime | None:
    """The earliest instant after which a tick has something to do: a schedule's next run, a retry, a reminder."""
    with Session(db) as s:
        nxt = s.exec(select(sa.func.min(Schedule.next_run)).where(Schedule.status == "active")).first()
        due = s.exec(select(sa.func.min(Occurrence.run_after)).where(Occurrence.status == DUE)).first()
        candidates = [aware(x) for x in (nxt, due) if x is not None]
        if policy.remind_above is not None:
            for row in s.exec(select(Schedule).where(Schedule.status == "active", Schedule.kind == "send",
                                                     col(Schedule.next_run).is_not(None))).all():
                at = aware(row.next_run)
                if at is not None and aware(row.reminded_for) != at and total_minor(json.loads(row.payload)) > policy.remind_above:
                    candidates.append(at - timedelta(days=1))
    found = [c for c in candidates if c is not None]
    return min(found) if found else None
