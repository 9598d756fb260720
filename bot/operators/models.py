"""The operators' tables: the audit chain and its head, pending approvals, and each account's standing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel


class AuditRow(SQLModel, table=True):
    """One operator act or approval: append-only, its hash covering its fields and the row before it."""

    __tablename__ = "bot_audit"

    seq: int = Field(primary_key=True)  # 1, 2, 3... with no gap: a missing row breaks the chain
    at_us: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))  # when, epoch microseconds
    actor_id: int | None = Field(default=None, index=True)  # who (an operator's user id; None: the system)
    verb: str  # what: freeze, reverse.requested, approval.approved, ...
    target_id: int | None = Field(default=None, index=True)  # on whom
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # why, as the operator wrote it
    detail: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON of the act's parameters and outcome
    approval_id: str | None = None
    approver_id: int | None = None  # the checker, on an act a second operator approved
    prev_hash: str
    hash: str


class AuditHead(SQLModel, table=True):
    """The chain's end (one row, id 1): appending locks it, so two appends never share a predecessor."""

    __tablename__ = "bot_audit_head"

    id: int = Field(primary_key=True)
    seq: int = 0
    hash: str


class Approval(SQLModel, table=True):
    """A sensitive act one operator (the maker) asked for, waiting for another (the checker)."""

    __tablename__ = "bot_approvals"

    id: str = Field(primary_key=True)  # derived from the maker's confirmed action
    verb: str  # reverse, unfreeze, tier, limits, unlock, pin-reset
    maker_id: int = Field(index=True)
    target_id: int | None = None
    params: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = "pending"  # pending, approved, rejected, expired, failed
    result: str | None = None
    checker_id: int | None = None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None


class AccountStanding(SQLModel, table=True):
    """What operators set on one account: a freeze, own limits, and when it was closed."""

    __tablename__ = "bot_account_standing"

    user_id: int = Field(primary_key=True)
    frozen: bool = False
    frozen_reason: str | None = None
    frozen_at: datetime | None = None
    frozen_by: int | None = None
    per_payment: int | None = None  # minor units of `limits_currency`; None: the tier's
    per_day: int | None = None
    per_month: int | None = None
    limits_currency: str | None = None
    closed_at: datetime | None = None
