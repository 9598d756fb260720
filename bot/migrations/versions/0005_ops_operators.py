"""operators: the audit chain and its head, maker-checker approvals, each account's standing (freeze, limits, closed)

Revision ID: 0005_ops
Revises: 0004_admin_log, 0004_pin_exposed
Create Date: 2026-12-03 09:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision: str = '0005_ops'
down_revision: tuple[str, str] = ('0004_admin_log', '0004_pin_exposed')
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table('bot_audit',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('verb', sa.String(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('approval_id', sa.String(), nullable=True),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('prev_hash', sa.String(), nullable=False),
    sa.Column('hash', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('bot_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bot_audit_at_us'), ['at_us'], unique=False)
        batch_op.create_index(batch_op.f('ix_bot_audit_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bot_audit_target_id'), ['target_id'], unique=False)
    op.create_table('bot_audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('bot_approvals',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('verb', sa.String(), nullable=False),
    sa.Column('maker_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('result', sa.String(), nullable=True),
    sa.Column('checker_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bot_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bot_approvals_maker_id'), ['maker_id'], unique=False)
    op.create_table('bot_account_standing',
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('frozen_reason', sa.String(), nullable=True),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('frozen_by', sa.Integer(), nullable=True),
    sa.Column('per_payment', sa.BigInteger(), nullable=True),
    sa.Column('per_day', sa.BigInteger(), nullable=True),
    sa.Column('per_month', sa.BigInteger(), nullable=True),
    sa.Column('limits_currency', sa.String(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade() -> None:
    op.drop_table('bot_account_standing')
    with op.batch_alter_table('bot_approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bot_approvals_maker_id'))
    op.drop_table('bot_approvals')
    op.drop_table('bot_audit_head')
    with op.batch_alter_table('bot_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bot_audit_target_id'))
        batch_op.drop_index(batch_op.f('ix_bot_audit_actor_id'))
        batch_op.drop_index(batch_op.f('ix_bot_audit_at_us'))
    op.drop_table('bot_audit')
