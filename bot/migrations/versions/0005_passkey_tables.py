"""passkeys: people's WebAuthn credentials and the passkey page's one-time links

Revision ID: 0005_passkey
Revises: 0004_admin_log, 0004_pin_exposed
Create Date: 2026-12-03 09:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision: str = '0005_passkey'
down_revision: tuple[str, str] | None = ('0004_admin_log', '0004_pin_exposed')
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table('bot_passkeys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.String(), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('sign_count', sa.Integer(), nullable=False),
    sa.Column('transports', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('aaguid', sa.String(), nullable=False),
    sa.Column('backed_up', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['bot_users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('credential_id')
    )
    with op.batch_alter_table('bot_passkeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bot_passkeys_user_id'), ['user_id'], unique=False)
    op.create_table('bot_passkey_links',
    sa.Column('token', sa.String(), nullable=False),
    sa.Column('purpose', sa.String(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('messenger', sa.String(), nullable=False),
    sa.Column('external_id', sa.String(), nullable=False),
    sa.Column('lang', sa.String(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=True),
    sa.Column('action_id', sa.String(), nullable=True),
    sa.Column('digest', sa.String(), nullable=True),
    sa.Column('nonce', sa.String(), nullable=True),
    sa.Column('challenge', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['bot_users.id'], ),
    sa.PrimaryKeyConstraint('token')
    )
    with op.batch_alter_table('bot_passkey_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bot_passkey_links_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bot_passkey_links_challenge_id'), ['challenge_id'], unique=False)


def downgrade() -> None:
    op.drop_table('bot_passkey_links')
    op.drop_table('bot_passkeys')
