"""fx prefs: whether a person keeps money that arrives in another currency in a wallet of its own

Revision ID: 0005_fx
Revises: 0004_admin_log, 0004_pin_exposed
Create Date: 2026-12-03 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision: str = '0005_fx'
down_revision: tuple[str, str] | None = ('0004_admin_log', '0004_pin_exposed')
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table('bot_fx_prefs',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('keep_foreign', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['bot_users.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade() -> None:
    op.drop_table('bot_fx_prefs')
