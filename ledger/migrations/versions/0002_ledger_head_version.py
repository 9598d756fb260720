"""The chain head counts committed write batches (lets a PostgreSQL writer read in one statement).

Revision ID: ledger_0002
Revises: ledger_0001
Create Date: 2025-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "ledger_0002"
down_revision: str | None = "ledger_0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_head") as batch:
        batch.add_column(sa.Column("version", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("ledger_head") as batch:
        batch.drop_column("version")
