"""The ledger's tables (SQLAlchemy Core, their own MetaData and migration history)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# 64-bit everywhere; on SQLite a plain INTEGER primary key is the rowid itself.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

GENESIS_HASH = "0" * 64

accounts = sa.Table(
    "ledger_accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("asset", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("flags", sa.Integer, nullable=False),
    sa.Column("label", sa.String(200), nullable=True),
    sa.Column("debits_posted", sa.BigInteger, nullable=False),
    sa.Column("credits_posted", sa.BigInteger, nullable=False),
    sa.Column("debits_pending", sa.BigInteger, nullable=False),
    sa.Column("credits_pending", sa.BigInteger, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("owner", "asset", "kind", name="uq_ledger_accounts_owner_asset_kind"),
    sa.CheckConstraint("version >= 0", name="ck_ledger_accounts_version"),
    sa.CheckConstraint(
        "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0",
        name="ck_ledger_accounts_counters",
    ),
)

transfers = sa.Table(
    "ledger_transfers",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=False),
    sa.Column("id", sa.String, nullable=False),
    sa.Column("debit_account_id", sa.Integer, sa.ForeignKey("ledger_accounts.id"), nullable=False),
    sa.Column("credit_account_id", sa.Integer, sa.ForeignKey("ledger_accounts.id"), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("flags", sa.Integer, nullable=False),
    sa.Column("pending_id", sa.String, nullable=True),
    sa.Column("timeout_seconds", sa.BigInteger, nullable=False),
    sa.Column("code", sa.Integer, nullable=False),
    sa.Column("memo", sa.String, nullable=True),
    sa.Column("reverses_id", sa.String, nullable=True),
    sa.Column("asset", sa.String(40), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("expires_us", sa.BigInteger, nullable=True),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("id", name="uq_ledger_transfers_id"),
    sa.CheckConstraint("amount > 0", name="ck_ledger_transfers_amount"),
    # an account's movements by time (migration ledger_0004): statements, opening balances, latest lines
    sa.Index("ix_ledger_transfers_debit_at", "debit_account_id", "created_us"),
    sa.Index("ix_ledger_transfers_credit_at", "credit_account_id", "created_us"),
    sa.Index(
        "ix_ledger_transfers_reverses",
        "reverses_id",
        sqlite_where=sa.text("reverses_id IS NOT NULL"),
        postgresql_where=sa.text("reverses_id IS NOT NULL"),
    ),
    sa.Index(
        "ix_ledger_transfers_open_holds",
        "expires_us",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
)

failed_transfers = sa.Table(
    "ledger_failed_transfers",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("result", sa.String(60), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
)

head = sa.Table(
    "ledger_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("next_expiry_us", sa.BigInteger, nullable=True),
    # bumped by every batch that writes; a PostgreSQL writer compares the locked head's version
    # with the one its statement's snapshot saw to know whether it must read again
    sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
)

TRANSFER_COLUMNS = (
    "seq",
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "flags",
    "pending_id",
    "timeout_seconds",
    "code",
    "memo",
    "reverses_id",
    "asset",
    "created_us",
    "expires_us",
    "status",
    "hash",
)
