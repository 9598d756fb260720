"""An account's movements by time: (debit_account_id, created_us) and (credit_account_id, created_us)
replace the single-column account indexes (their prefix serves the same lookups).

A statement of a period, the balance at its start and the latest lines then read only the rows of that
account in that time range, not every row the account ever had: what a big book would otherwise make slow.

Revision ID: ledger_0004
Revises: ledger_0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision: str = "ledger_0004"
down_revision: str | None = "ledger_0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_ledger_transfers_debit_at", "ledger_transfers", ["debit_account_id", "created_us"])
    op.create_index("ix_ledger_transfers_credit_at", "ledger_transfers", ["credit_account_id", "created_us"])
    op.drop_index("ix_ledger_transfers_debit", table_name="ledger_transfers")
    op.drop_index("ix_ledger_transfers_credit", table_name="ledger_transfers")


def downgrade() -> None:
    op.create_index("ix_ledger_transfers_debit", "ledger_transfers", ["debit_account_id"])
    op.create_index("ix_ledger_transfers_credit", "ledger_transfers", ["credit_account_id"])
    op.drop_index("ix_ledger_transfers_credit_at", table_name="ledger_transfers")
    op.drop_index("ix_ledger_transfers_debit_at", table_name="ledger_transfers")
