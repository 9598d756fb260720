"""System accounts that must not go negative (escrow, payouts, fees) get the balance flag.

Revision ID: ledger_0003
Revises: ledger_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "ledger_0003"
down_revision: str | None = "ledger_0002"
branch_labels: str | None = None
depends_on: str | None = None

DEBITS_MUST_NOT_EXCEED_CREDITS = 1


def upgrade() -> None:
    # an account already beyond the limit keeps the flag too: `ledger check` then names it
    op.execute(
        sa.text(
            "UPDATE ledger_accounts SET flags = :f WHERE owner = 'system' AND kind IN ('escrow', 'payouts', 'fees')"
        ).bindparams(f=DEBITS_MUST_NOT_EXCEED_CREDITS)
    )


def downgrade() -> None:
    op.execute(
        sa.text("UPDATE ledger_accounts SET flags = 0 WHERE owner = 'system' AND kind IN ('escrow', 'payouts', 'fees')")
    )
