"""Standing orders as people handle them: create from a confirmed card, list, find by words, pause, resume, stop."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.clock import aware
from bot.models import Schedule
from bot.standing.ends import End
from bot.standing.models import DUE, SKIPPED, Occurrence
from bot.standing.recurrence import ONE_OFF, Recurrence, anchor_for, zone

LIVE = ("active", "paused")


class NotYours(LookupError):
    """No live standing order of that id belongs to this person."""


@dataclass(frozen=True)
class Timing:
    """What a card shows of a series before it is confirmed: how often, the next runs, the end."""

    rule: str
    next_runs: tuple[datetime, ...]
    end: End
    tz: str


def timing(rule: str | None, when: date | None, end: End, *, now: datetime, tz: str, hour: int) -> Timing:
    """The next three runs of a series that would start now (a one-off date: that one run)."""
    rec = _recurrence(rule, when, end, now=now, tz=tz, hour=hour)
    return Timing(rec.rule, tuple(rec.next_after(now, 3)), end, tz)


def _recurrence(rule: str | None, when: date | None, end: End, *, now: datetime, tz: str, hour: int) -> Recurrence:
    zone(tz)  # UnknownZone early
    if rule is None:
        return Recurrence(ONE_OFF, anchor_for(now, tz, hour, on=when), tz)
    return Recurrence(rule, anchor_for(now, tz, hour), tz, count=end.count, until=end.until)


def create(s: Session, *, action_id: str, user_id: int, kind: str, payload: dict[str, Any], rule: str | None,
           when: date | None, end: End, now: datetime, tz: str, hour: int) -> Schedule | None:
    """A schedule for a confirmed card (one per action: confirming twice makes one); None when it never runs."""
    existing = s.exec(select(Schedule).where(Schedule.action_id == action_id)).first()
    if existing is not None:
        return existing
    rec = _recurrence(rule, when, end, now=now, tz=tz, hour=hour)
    first = rec.next_after(now, 1)
    if not first:
        return None
    row = Schedule(action_id=action_id, user_id=user_id, rrule=None if rule is None else rule, payload=json.dumps(payload),
                   next_run=first[0], active=True, created_at=now, kind=kind, status="active", tz=tz,
                   anchor=rec.anchor.isoformat(), count=rec.count if rule is not None else 1,
                   until_day=rec.until.isoformat() if rec.until else None)
    if rule is None:
        row.rrule = ONE_OFF
        row.count = None
    s.add(row)
    s.flush()
    return row


def upgrade_legacy(s: Session, default_tz: str, hour: int) -> int:
    """Give schedules written before bot/standing an anchor (their next run's day at the hour), so they keep running."""
    n = 0
    for row in s.exec(select(Schedule).where(col(Schedule.anchor).is_(None))).all():
        nxt = aware(row.next_run)
        if nxt is None or not row.active:
            row.status, row.active, row.anchor = "finished", False, (nxt or row.created_at).replace(tzinfo=None).isoformat()
        else:
            row.anchor, row.tz = nxt.replace(tzinfo=None).isoformat(), "UTC"
            row.rrule = row.rrule or ONE_OFF
        s.add(row)
        n += 1
    return n


@dataclass(frozen=True)
class Listed:
    """One standing order as the list shows it."""

    row: Schedule
    payload: dict[str, Any]
    next_runs: tuple[datetime, ...]
    last_result: str | None
    last_run_at: datetime | None


def live(s: Session, user_id: int, kinds: tuple[str, ...] | None = None) -> list[Listed]:
    """A person's active and paused standing orders, the soonest first."""
    q = select(Schedule).where(Schedule.user_id == user_id, col(Schedule.status).in_(LIVE))
    if kinds:
        q = q.where(col(Schedule.kind).in_(kinds))
    out: list[Listed] = []
    for row in s.exec(q.order_by(col(Schedule.id))).all():
        nxt = aware(row.next_run)
        runs: tuple[datetime, ...] = ()
        if nxt is not None and row.anchor is not None:
            from bot.standing.runner import recurrence_of

            runs = (nxt, *recurrence_of(row).next_after(nxt, 2))
        out.append(Listed(row, json.loads(row.payload), runs, row.last_result, aware(row.last_run_at)))
    out.sort(key=lambda x: (x.row.status != "active", x.next_runs[0].timestamp() if x.next_runs else float("inf")))
    return out


def _own(s: Session, user_id: int, schedule_id: int) -> Schedule:
    row = s.get(Schedule, schedule_id)
    if row is None or row.user_id != user_id or row.status not in LIVE:
        raise NotYours(schedule_id)
    return row


def pause(s: Session, user_id: int, schedule_id: int) -> Schedule:
    """Stop running until resumed: runs that fall in the pause are not made up later."""
    row = _own(s, user_id, schedule_id)
    row.status, row.active = "paused", False
    s.add(row)
    return row


def resume(s: Session, user_id: int, schedule_id: int, now: datetime) -> Schedule:
    """Run again from the next occurrence after now (none of the paused ones)."""
    from bot.standing.runner import recurrence_of

    row = _own(s, user_id, schedule_id)
    nxt = recurrence_of(row).next_after(max(now, aware(row.next_run) or now) if row.status == "active" else now, 1)
    row.next_run = nxt[0] if nxt else None
    row.status, row.active = ("active", True) if nxt else ("finished", False)
    s.add(row)
    return row


def stop(s: Session, user_id: int, schedule_id: int, now: datetime) -> Schedule:
    """End the series for good: no further run, and a due retry is dropped."""
    row = _own(s, user_id, schedule_id)
    row.status, row.active, row.next_run = "stopped", False, None
    s.add(row)
    for occ in s.exec(select(Occurrence).where(Occurrence.schedule_id == row.id, Occurrence.status == DUE)).all():
        occ.status, occ.result, occ.done_at = SKIPPED, "stopped", now
        s.add(occ)
    return row


def supersede(s: Session, user_id: int, old_id: int, new: Schedule, now: datetime) -> None:
    """A change confirmed anew: the old series stops, the new one (already created) takes its place."""
    stop(s, user_id, old_id, now)
    new.last_result = None
    s.add(new)


def matching(s: Session, user_id: int, *, recipients: tuple[str, ...] = (), symbol: str | None = None,
             rule: str | None = None, kind: str | None = None) -> list[Listed]:
    """The live standing orders words like "stop paying @mom every monday" can mean (every one when nothing is said)."""
    found = []
    want = {r.lstrip("@").lower() for r in recipients if r != "reply"}
    for item in live(s, user_id):
        p = item.payload.get("inner") or item.payload  # a standing order's payload wraps what each run does
        if kind and item.row.kind != kind:
            continue
        if symbol and str(p.get("symbol") or "").upper() != symbol.upper():
            continue
        if want:
            labels = {str(leg.get("label") or leg.get("handle") or "").lstrip("@").lower() for leg in p.get("legs", [])}
            labels |= {str(h).lstrip("@").lower() for h in p.get("handles", []) or []}
            if not want & labels:
                continue
        if rule and item.row.rrule and not _same_rhythm(rule, item.row.rrule):
            continue
        found.append(item)
    return found


def _same_rhythm(said: str, stored: str) -> bool:
    """Whether a said rule ("weekly", FREQ=WEEKLY) fits a stored one: the frequency, and the day when one is said."""
    a = dict(part.split("=", 1) for part in said.split(";") if "=" in part)
    b = dict(part.split("=", 1) for part in stored.split(";") if "=" in part)
    if a.get("FREQ") and a["FREQ"] != b.get("FREQ"):
        return False
    return not (a.get("BYDAY") and b.get("BYDAY") and a["BYDAY"] != b["BYDAY"])


def history(s: Session, schedule_id: int, limit: int = 5) -> list[Occurrence]:
    """The newest occurrences of a schedule, for the list's "last result"."""
    return list(s.exec(select(Occurrence).where(Occurrence.schedule_id == schedule_id)
                       .order_by(col(Occurrence.due_at).desc()).limit(limit)).all())
