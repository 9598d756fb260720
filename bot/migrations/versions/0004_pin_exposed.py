"""a PIN typed in a group is exposed until changed

Revision ID: 0004_pin_exposed
Revises: 0003_attempts
Create Date: 2026-12-02 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision: str = '0004_pin_exposed'
down_revision: str | None = '0003_attempts'
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table('bot_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pin_exposed', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('bot_users', schema=None) as batch_op:
        batch_op.drop_column('pin_exposed')
