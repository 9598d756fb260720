"""admin log: every /admin command, who gave it, when, and what came of it

Revision ID: 0004_admin_log
Revises: 0003_attempts
Create Date: 2026-12-02 15:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision: str = '0004_admin_log'
down_revision: str | None = '0003_attempts'
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table('bot_admin_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('verb', sa.String(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('command', sa.Text(), nullable=False),
    sa.Column('result', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['bot_users.id'], ),
    sa.ForeignKeyConstraint(['target_id'], ['bot_users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bot_admin_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bot_admin_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bot_admin_log_operator_id'), ['operator_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bot_admin_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bot_admin_log_operator_id'))
        batch_op.drop_index(batch_op.f('ix_bot_admin_log_at'))
    op.drop_table('bot_admin_log')
