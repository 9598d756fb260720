"""The engine's tables: people, chats, pending actions, step-up challenges, requests, escrow, schedules."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    """A person finbot knows; money follows this id, never a handle."""

    __tablename__ = "bot_users"

    id: int | None = Field(default=None, primary_key=True)
    handle: str | None = Field(default=None, index=True)  # current handle, lowercased, no '@'
    name: str | None = None
    lang: str = "en"
    lang_chosen: bool = False  # set by /lang; then the client's language no longer overrides it
    currency: str = "USD"
    kyc_tier: int = 0
    started: bool = False  # wrote /start: wallets open, escrow claimed
    private_chat_id: str | None = None
    pin_hash: str | None = None
    pin_failures: int = 0
    pin_exposed: bool = False  # typed in a group: refused for step-up until changed
    stepup_locked_until: datetime | None = None
    totp_secret: str | None = None
    totp_pending_secret: str | None = None
    totp_last_counter: int | None = None
    is_operator: bool = False
    is_bot: bool = False  # a bot (this one, or another in a group): never part of a group's "everyone"
    tz: str | None = None  # IANA time zone (/tz Europe/Oslo); None: the DEFAULT_TIMEZONE setting
    created_at: datetime


class Identity(SQLModel, table=True):
    """A user's id on one messenger."""

    __tablename__ = "bot_identities"
    __table_args__ = (UniqueConstraint("messenger", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="bot_users.id", index=True)
    messenger: str
    external_id: str


class HandleHistory(SQLModel, table=True):
    """Which user held which handle, and when: handles change, ids do not."""

    __tablename__ = "bot_handle_history"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="bot_users.id", index=True)
    handle: str = Field(index=True)
    seen_from: datetime
    seen_until: datetime | None = None


class ChatRow(SQLModel, table=True):
    """A chat the bot is in."""

    __tablename__ = "bot_chats"
    __table_args__ = (UniqueConstraint("messenger", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    messenger: str
    chat_id: str
    kind: str
    title: str | None = None


class ChatMember(SQLModel, table=True):
    """Someone seen in a group chat."""

    __tablename__ = "bot_chat_members"
    __table_args__ = (UniqueConstraint("chat_row_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_row_id: int = Field(foreign_key="bot_chats.id", index=True)
    user_id: int = Field(foreign_key="bot_users.id", index=True)
    left_at: datetime | None = None  # left or was removed: not in "everyone", cannot claim, told nothing more


class ProcessedEvent(SQLModel, table=True):
    """An event already handled: a redelivery changes nothing."""

    __tablename__ = "bot_processed_events"
    __table_args__ = (UniqueConstraint("messenger", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    messenger: str
    event_id: str
    at: datetime


class Action(SQLModel, table=True):
    """A money action waiting for (or done after) the initiator's confirmation and step-up."""

    __tablename__ = "bot_actions"
    # what grows with the book is read through these (migration 0005_perf): one person's actions of a
    # status, newest first (next waiting card, /cancel, velocity, new payee); due ones by status
    __table_args__ = (
        Index("ix_bot_actions_initiator_status_created", "initiator_id", "status", "created_at"),
        Index("ix_bot_actions_status_expires", "status", "expires_at"),
        # what a day or month of executed payments used of the limits: one indexed sum (migration 0006)
        Index("ix_bot_actions_initiator_status_done", "initiator_id", "status", "done_at"),
    )

    id: str = Field(primary_key=True)  # derived from where it came from: messenger, chat, message
    kind: str  # send, deposit, withdraw, request, split, pay_request, buy, sell, schedule
    initiator_id: int = Field(foreign_key="bot_users.id")  # indexed with status and created_at (above)
    messenger: str
    origin_chat_id: str
    origin_group: bool = False
    payload: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON of what is confirmed
    digest: str  # sha256 of the payload: what the card shows and the confirmation binds to
    status: str = "awaiting_confirm"  # awaiting_confirm, awaiting_stepup, executed, failed, cancelled, expired
    stepup_method: str | None = None
    result: str | None = None
    attempt: int = 0  # a failed action confirmed again is attempt 1, 2, ...: its transfers get ids of their own
    card_chat_id: str | None = None
    card_message_id: str | None = None
    created_at: datetime
    expires_at: datetime
    done_at: datetime | None = None
    # what it takes out of the initiator's wallet (bot/moved.py), set from the payload when it is made
    moved_minor: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    moved_currency: str | None = None


@event.listens_for(Action, "before_insert")
def _moved(mapper: object, connection: object, target: Action) -> None:
    """Every action is made with what it moves (its payload never changes after: the digest binds it)."""
    if target.moved_minor is None and target.payload:
        from bot.moved import moved

        target.moved_minor, target.moved_currency = moved(target.kind, json.loads(target.payload))


class PressToken(SQLModel, table=True):
    """An opaque, single-use button token: never an amount or an id on the wire."""

    __tablename__ = "bot_press_tokens"

    token: str = Field(primary_key=True)
    action_id: str | None = Field(default=None, index=True)
    request_id: int | None = None
    choice: str  # confirm, cancel, pay, decline, keypad digit...
    allowed_user_id: int | None = None  # None: any member named by the target
    single_use: bool = True
    used_at: datetime | None = None
    expires_at: datetime


class Challenge(SQLModel, table=True):
    """A step-up challenge bound to one action's digest; answered once, before it expires."""

    __tablename__ = "bot_challenges"

    id: int | None = Field(default=None, primary_key=True)
    action_id: str = Field(index=True)
    user_id: int = Field(foreign_key="bot_users.id", index=True)
    digest: str
    method: str  # pin, pin+totp
    pin_ok: bool = False
    status: str = "open"  # open, passed, failed, expired
    created_at: datetime
    expires_at: datetime


class Conversation(SQLModel, table=True):
    """What the bot is waiting for from a user in their private chat (a PIN, a missing amount...)."""

    __tablename__ = "bot_conversations"

    user_id: int = Field(primary_key=True, foreign_key="bot_users.id")
    state: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    updated_at: datetime


class PaymentRequest(SQLModel, table=True):
    """Money one user asks of another (a request, or a share of a split)."""

    __tablename__ = "bot_requests"

    id: int | None = Field(default=None, primary_key=True)
    action_id: str = Field(index=True)  # the request/split action that created it
    requester_id: int = Field(foreign_key="bot_users.id", index=True)
    payer_id: int | None = Field(default=None, foreign_key="bot_users.id", index=True)
    payer_handle: str | None = None
    amount: int
    currency: str
    note: str | None = None
    status: str = "open"  # open, paid, declined, cancelled
    chat_id: str
    card_chat_id: str | None = None
    card_message_id: str | None = None
    created_at: datetime
    done_at: datetime | None = None


class Escrow(SQLModel, table=True):
    """Money sent to a handle that has never written to the bot: claimable on /start, returned later."""

    __tablename__ = "bot_escrow"

    id: int | None = Field(default=None, primary_key=True)
    action_id: str = Field(index=True)
    leg: int
    sender_id: int = Field(foreign_key="bot_users.id", index=True)
    handle: str = Field(index=True)
    amount: int
    currency: str
    transfer_id: str
    status: str = "held"  # held, claimed, returned
    expires_at: datetime
    done_at: datetime | None = None


class Schedule(SQLModel, table=True):
    """A confirmed standing order: every occurrence executes once, with an id derived from its date."""

    __tablename__ = "bot_schedules"

    id: int | None = Field(default=None, primary_key=True)
    action_id: str = Field(index=True)
    user_id: int = Field(foreign_key="bot_users.id", index=True)
    rrule: str | None = None
    payload: str = Field(sa_column=Column(Text, nullable=False))
    next_run: datetime | None = None  # the next occurrence not yet written as a row (UTC)
    active: bool = True  # status == "active" (kept for readers of the first schema)
    created_at: datetime
    kind: str = "send"  # send, buy or sell
    status: str = "active"  # active, paused, stopped, finished
    tz: str = "UTC"
    anchor: str | None = None  # naive local wall time of the first possible run (ISO), see bot/standing/recurrence.py
    count: int | None = None  # "10 times"
    until_day: str | None = None  # "until March": the last local day (ISO date)
    runs: int = 0  # occurrences written so far (run, failed or skipped)
    last_result: str | None = None
    last_run_at: datetime | None = None
    reminded_for: datetime | None = None  # the occurrence the day-before reminder was sent for


class SentMessage(SQLModel, table=True):
    """The messenger's id of a message the engine named, so it can edit it later."""

    __tablename__ = "bot_sent_messages"

    ref: str = Field(primary_key=True)
    chat_id: str
    message_id: str


class KeyValue(SQLModel, table=True):
    """Small pieces of world state (the simulator's clock)."""

    __tablename__ = "bot_kv"

    key: str = Field(primary_key=True)
    value: str


class OrderRow(SQLModel, table=True):
    """An order the engine placed for a user: the cash or shares held for it and how much is settled."""

    __tablename__ = "bot_orders"

    client_order_id: str = Field(primary_key=True)
    action_id: str = Field(index=True)
    user_id: int = Field(foreign_key="bot_users.id", index=True)
    symbol: str
    side: str
    currency: str
    reserved: int  # minor units of cash (buy) or share units (sell) held at submission
    fills_applied: int = 0
    filled_qty: str = "0"  # decimal string
    cash_settled: int = 0  # minor units paid (buy) or received (sell), fees included
    fees: int = 0
    status: str = "open"
    released: bool = False
    card_chat_id: str | None = None
    created_at: datetime
    updated_at: datetime


class FillRow(SQLModel, table=True):
    """One fill as posted on the ledger: for cost basis and realised P&L."""

    __tablename__ = "bot_fills"

    fill_id: str = Field(primary_key=True)
    client_order_id: str = Field(index=True)
    user_id: int = Field(foreign_key="bot_users.id", index=True)
    symbol: str
    side: str
    qty: str
    price: str
    cash: int  # minor units, without the fee
    fee: int
    currency: str
    at: datetime


class AdminAct(SQLModel, table=True):
    """Every /admin command given: who, what, on whom, when, and what came of it (written with the change)."""

    __tablename__ = "bot_admin_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    operator_id: int = Field(foreign_key="bot_users.id", index=True)
    verb: str
    target_id: int | None = Field(default=None, foreign_key="bot_users.id")
    command: str = Field(sa_column=Column(Text, nullable=False))  # the arguments as written
    result: str  # "ok", or "refused: <why>"


import bot.groups.models  # noqa: E402,F401  (registers the group-money tables)
from bot.fxmodels import FxPref  # noqa: E402,F401  (issue 13's table, registered with the others)
from bot.operators.models import AccountStanding, Approval, AuditHead, AuditRow  # noqa: E402,F401  (registers the tables)
from bot.passkey_tables import PasskeyCredential as PasskeyCredential  # noqa: E402  (the passkey tables)
from bot.passkey_tables import PasskeyLink as PasskeyLink  # noqa: E402
from bot.standing.models import Occurrence  # noqa: E402,F401  (registers bot_occurrences)
