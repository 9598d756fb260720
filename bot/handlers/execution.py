"""Execution, once, after the event's commit: the kind's executor, then the outcome recorded exactly once.

`execute(app, action_id)` runs for an action moved to "executing" (by a passed step-up, or a Confirm of a
kind without one) from `c.after`, and again from the tick for an execution a crash interrupted. The
kind's executor (`bus.executors[kind]`) gets the attempt's run id, from which every transfer id derives,
so a second run creates nothing new; `record` moves the action from executing to executed or failed by a
guarded update (once), then a success is told by the kind's `bus.after_record[kind]` (default: the card
says "Done") and a failure by the reason, with Confirm again for retryable kinds.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import commands, metrics, uow
from bot.actions import attempt_id
from bot.app import App
from bot.bus import Bus
from bot.crash import crash_point
from bot.events import Button, Reply
from bot.execution import Outcome
from bot.handlers import outcomes, tokens
from bot.i18n import t
from bot.models import Action, User
from bot.payloads import Payload, load, retryable
from bot.reasons import RETRYABLE


def register(bus: Bus) -> None:
    bus.ticks.append(resume_executing)


def on_ledger(app: App, run_id: str, payload: Payload) -> Outcome:
    """The executor of the ledger's own kinds (bot/execution.py's Executor): transfers with ids from `run_id`."""
    outcome = app.executor.run(run_id, payload.kind, payload.to_dict())
    crash_point("after_ledger_commit")
    return outcome


def execute(app: App, action_id: str, known: tuple[str, str, int] | None = None) -> list[Reply]:
    """Run an executing action's executor once, then record what came of it (once). `known`: (kind, payload,
    attempt) of an action the caller's committed transaction just moved to executing, so it is not read again; were
    it executed meanwhile (a tick elsewhere), running it again moves nothing (its ids derive from the attempt, and
    the ledger remembers failed ids too) and `record`'s guarded update tells nothing twice."""
    if known is not None:
        kind, body, attempt = known
        payload = load(body)
        run_id = attempt_id(action_id, attempt)
    else:
        with Session(app.db, expire_on_commit=False) as s:
            a = s.get(Action, action_id)
            if a is None or a.status != "executing":
                return []
            payload = load(a.payload)
            kind = a.kind
            run_id = attempt_id(a.id, a.attempt)
            s.rollback()
    run = app.bus.executors.get(kind)
    outcome = run(app, run_id, payload) if run is not None else Outcome(False, "unknown_action")
    return record(app, action_id, payload, outcome)


def record(app: App, action_id: str, payload: Payload, outcome: Outcome) -> list[Reply]:
    """Move the action from executing to executed or failed (guarded: once), and tell the outcome."""
    now = app.clock()
    with Session(app.db, expire_on_commit=False) as s:
        moved = s.execute(
            sa.update(Action).where(col(Action.id) == action_id, col(Action.status) == "executing").values(
                status="executed" if outcome.ok else "failed", result=outcome.code, done_at=now)
        ).rowcount  # type: ignore[attr-defined]
        if moved != 1:
            s.rollback()
            return []
        metrics.executed(outcome.code)
        a = s.get(Action, action_id)
        assert a is not None
        user = s.get(User, a.initiator_id)
        assert user is not None
        out = uow.queue(app, s, after_record(app, s, a, user, payload, outcome, now), f"action:{action_id}")
        s.commit()
    return out


def after_record(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome,
                 now: datetime) -> list[Reply]:
    """What an outcome is told: a failure and why (Confirm again when it can be put right), or the kind's own."""
    lang = user.lang
    if not outcome.ok:
        text = t(lang, "Not done: {reason}", reason=outcomes.reason(outcome.code, lang)) + "\n" + payload.describe(lang)
        buttons: tuple[tuple[Button, ...], ...] = ()
        if retryable(a.kind) and outcome.code in RETRYABLE:
            retry = tokens.raw_token(app, s, "retry", action_id=a.id, allowed=user.id, now=now, single_use=True,
                                     lifetime=app.ttl)
            buttons = ((Button(commands.labels(lang)["confirm"], data=retry),),)
            text += "\n" + t(lang, "Put it right, then press Confirm to try again.")
        return outcomes.card_and_outcome(s, a, user, text, buttons)
    told = app.bus.after_record.get(a.kind)
    if told is None:
        return outcomes.done_card(s, a, user, payload)
    return told(app, s, a, user, payload, outcome, now)


def resume_executing(app: App, now: datetime) -> list[Reply]:
    """Finish the executions a crash interrupted (each executes once: its ids derive from the action)."""
    with Session(app.db) as s:
        ids = [a.id for a in s.exec(select(Action).where(Action.status == "executing")).all()]
    out: list[Reply] = []
    for action_id in ids:
        out += execute(app, action_id)
    return out
