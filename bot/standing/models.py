"""The occurrence table: one row a standing order's run, unique on (schedule, time), claimed by one worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

DUE, DONE, FAILED, SKIPPED = "due", "done", "failed", "skipped"


class Occurrence(SQLModel, table=True):
    """One run of a standing order; its (schedule_id, due_at) is unique, so no two workers write it twice."""

    __tablename__ = "bot_occurrences"
    __table_args__ = (UniqueConstraint("schedule_id", "due_at", name="uq_occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="bot_schedules.id", index=True)
    due_at: datetime  # the nominal instant (UTC)
    run_after: datetime = Field(index=True)  # when it may run: due_at, or the retry time after a failure
    status: str = Field(default=DUE, index=True)  # due, done, failed, skipped
    attempt: int = 0  # 0 first try, 1 the retry after a want of funds
    late: bool = False  # ran on start-up after the bot was down
    result: str | None = None  # ok, a ledger / broker code, or missed / paused / stopped
    run_id: str | None = None  # the id the transfer / order derived from
    claim_token: str | None = None  # SQLite's lease (PostgreSQL holds a row lock instead)
    claimed_until: datetime | None = None
    done_at: datetime | None = None
    reported: bool = False  # the person was told (skips are reported in one message)
