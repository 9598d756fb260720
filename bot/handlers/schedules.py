"""Standing orders as they are today: a confirmed send with a recurrence or a date becomes a schedule,
and the tick runs each due occurrence once (its transfer ids derive from the occurrence)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session, col, select

from bot.app import App
from bot.bus import Bus
from bot.clock import aware
from bot.events import Reply, ReplyKind
from bot.handlers import escrow, outcomes
from bot.i18n import t
from bot.models import Action, Schedule, User
from bot.payloads import Send
from bot.schedules import first_run, next_run


def register(bus: Bus) -> None:
    bus.ticks.append(due)


def make(s: Session, a: Action, user: User, payload: Send, now: datetime) -> None:
    """The schedule of a confirmed standing or future send."""
    s.add(Schedule(action_id=a.id, user_id=user.id or 0, rrule=payload.recurrence, payload=a.payload,
                   next_run=first_run(payload.to_dict(), now), created_at=now))


def confirmed(app: App, s: Session, a: Action, user: User, payload: Send, now: datetime) -> list[Reply]:
    """A standing or future send confirmed: its schedule written, its card says so."""
    make(s, a, user, payload, now)
    text = t(user.lang, "Scheduled ✅") + "\n" + payload.describe(user.lang)
    return outcomes.card_and_outcome(s, a, user, text)


def due(app: App, now: datetime) -> list[Reply]:
    """Run every occurrence that is due, each once, and tell the payer (and the payees)."""
    out: list[Reply] = []
    for _ in range(1000):
        with Session(app.db, expire_on_commit=False) as s:
            row = s.exec(select(Schedule).where(Schedule.active == True, col(Schedule.next_run).is_not(None))  # noqa: E712
                         .order_by(col(Schedule.next_run))).first()
            if row is None or (aware(row.next_run) or now) > now:
                break
            sid, run_at, stored = row.id, aware(row.next_run), Send.from_dict(json.loads(row.payload))
            action_id, user_id = row.action_id, row.user_id
            s.rollback()
        assert run_at is not None
        occurrence = f"{action_id}@{run_at.date().isoformat()}"
        once = replace(stored, recurrence=None, when=None)
        outcome = app.executor.run(occurrence, "send", once.to_dict())
        with Session(app.db, expire_on_commit=False) as s:
            row = s.get(Schedule, sid)
            if row is None or aware(row.next_run) != run_at:
                continue
            nxt = next_run(row.rrule, run_at) if row.rrule else None
            row.next_run = nxt
            row.active = nxt is not None
            user = s.get(User, user_id)
            if user is not None and user.private_chat_id:
                lang = user.lang
                what = once.describe(lang)
                text = (t(lang, "Scheduled payment done ✅") if outcome.ok else
                        t(lang, "Scheduled payment not done: {reason}", reason=outcomes.reason(outcome.code, lang)))
                out.append(Reply(ReplyKind.message, user.private_chat_id, f"{text}\n{what}"))
            if outcome.ok:
                escrow.record(app, s, occurrence, user_id, stored, now)
                if user is not None:
                    out += outcomes.notify_recipients(s, user, stored)
            s.commit()
    return out
