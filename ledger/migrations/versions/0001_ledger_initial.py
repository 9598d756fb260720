"""The ledger's tables: accounts, transfers (hash-chained), failed ids and the chain head.

Revision ID: ledger_0001
Revises:
Create Date: 2025-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "ledger_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
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
    op.create_table(
        "ledger_transfers",
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
    )
    op.create_index("ix_ledger_transfers_debit", "ledger_transfers", ["debit_account_id"])
    op.create_index("ix_ledger_transfers_credit", "ledger_transfers", ["credit_account_id"])
    op.create_index(
        "ix_ledger_transfers_reverses",
        "ledger_transfers",
        ["reverses_id"],
        sqlite_where=sa.text("reverses_id IS NOT NULL"),
        postgresql_where=sa.text("reverses_id IS NOT NULL"),
    )
    op.create_index(
        "ix_ledger_transfers_open_holds",
        "ledger_transfers",
        ["expires_us"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "ledger_failed_transfers",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("result", sa.String(60), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("next_expiry_us", sa.BigInteger, nullable=True),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64, "next_expiry_us": None}])


def downgrade() -> None:
    op.drop_table("ledger_head")
    op.drop_table("ledger_failed_transfers")
    op.drop_index("ix_ledger_transfers_open_holds", table_name="ledger_transfers")
    op.drop_index("ix_ledger_transfers_reverses", table_name="ledger_transfers")
    op.drop_index("ix_ledger_transfers_credit", table_name="ledger_transfers")
    op.drop_index("ix_ledger_transfers_debit", table_name="ledger_transfers")
    op.drop_table("ledger_transfers")
    op.drop_table("ledger_accounts")
