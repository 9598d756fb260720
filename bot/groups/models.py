"""The group-money tables: debts between members, pots (collections), red packets and their parts, tip budgets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class GroupDebt(SQLModel, table=True):
    """`debtor` owes `creditor` `amount` minor units in one group: an expense share, or a settle-up payment
    (written the other way round: paying X -> Y records that Y owes X what was paid). Balances are sums."""

    __tablename__ = "bot_group_debts"
    __table_args__ = (UniqueConstraint("source", "debtor_id", "creditor_id"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_row_id: int = Field(foreign_key="bot_chats.id", index=True)
    debtor_id: int = Field(foreign_key="bot_users.id", index=True)
    creditor_id: int = Field(foreign_key="bot_users.id", index=True)
    amount: int
    currency: str
    source: str  # expense:<action id> or settle:<action id>: a redelivery writes nothing twice
    note: str | None = None
    created_at: datetime


class Pot(SQLModel, table=True):
    """A collection in a group: each member pays `amount` into a hold; the organiser closes (paid out) or cancels (refunded)."""

    __tablename__ = "bot_pots"

    id: str = Field(primary_key=True)  # the action id that opened it
    chat_row_id: int = Field(foreign_key="bot_chats.id", index=True)
    chat_id: str
    organiser_id: int = Field(foreign_key="bot_users.id", index=True)
    amount: int  # each member's part, minor units
    currency: str
    note: str | None = None
    invited: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON user ids; [] with everyone
    everyone: bool = True
    status: str = "open"  # open, closed, cancelled
    deadline: datetime
    remind_at: datetime | None = None
    reminded: bool = False
    created_at: datetime
    done_at: datetime | None = None


class PotPayment(SQLModel, table=True):
    """One member's payment into a pot: a hold, posted to the organiser on close or voided on cancel."""

    __tablename__ = "bot_pot_payments"
    __table_args__ = (UniqueConstraint("pot_id", "payer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    pot_id: str = Field(foreign_key="bot_pots.id", index=True)
    payer_id: int = Field(foreign_key="bot_users.id", index=True)
    amount: int
    currency: str
    transfer_id: str = Field(index=True)
    status: str = "paying"  # paying (row written, hold coming), held, paid, refunded, failed
    created_at: datetime
    done_at: datetime | None = None


class RedPacket(SQLModel, table=True):
    """A red packet: `count` parts held from the sender's wallet, claimed one each by members, the rest back at expiry."""

    __tablename__ = "bot_red_packets"

    id: str = Field(primary_key=True)  # the action id that funded it
    chat_row_id: int = Field(foreign_key="bot_chats.id", index=True)
    chat_id: str
    sender_id: int = Field(foreign_key="bot_users.id", index=True)
    amount: int
    currency: str
    count: int
    mode: str = "equal"  # equal, lucky
    note: str | None = None
    status: str = "open"  # open, done (every part claimed), expired
    expires_at: datetime
    created_at: datetime
    done_at: datetime | None = None


class PacketPart(SQLModel, table=True):
    """One part of a red packet: its own hold; a claim takes the row (one claimer, one part a person) before the ledger pays it."""

    __tablename__ = "bot_packet_parts"
    __table_args__ = (UniqueConstraint("packet_id", "idx"), UniqueConstraint("packet_id", "claimer_id"))

    id: int | None = Field(default=None, primary_key=True)
    packet_id: str = Field(foreign_key="bot_red_packets.id", index=True)
    idx: int
    amount: int
    transfer_id: str = Field(index=True)
    claimer_id: int | None = Field(default=None, foreign_key="bot_users.id")
    status: str = "held"  # held, claiming (row taken, payout coming), claimed, returned
    claimed_at: datetime | None = None


class TipBudget(SQLModel, table=True):
    """A person's PIN-less tips since their last PIN: counted against the low-value budget (PSD2 RTS art. 16)."""

    __tablename__ = "bot_tip_budget"

    user_id: int = Field(primary_key=True, foreign_key="bot_users.id")
    count: int = 0
    total_eur: int = 0  # euro cents, through the rate
    since: datetime
