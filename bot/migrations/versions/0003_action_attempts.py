"""action attempts: a failed action confirmed again runs as a new attempt with transfer ids of its own

Revision ID: 0003_attempts
Revises: 0002
Create Date: 2026-12-02 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision: str = '0003_attempts'
down_revision: str | None = '0002'
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table('bot_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('bot_actions', schema=None) as batch_op:
        batch_op.drop_column('attempt')
