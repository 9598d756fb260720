"""group money: members who left, bots marked as such, debts between members, pots, red packets and their parts, tip budgets

Revision ID: 0005_group
Revises: 0004_admin_log, 0004_pin_exposed
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0005_group'
down_revision: tuple[str, str] = ('0004_admin_log', '0004_pin_exposed')
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table('bot_chat_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('left_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('bot_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_bot', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('bot_group_debts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_row_id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(), nullable=False),
    sa.Column('source', sa.String(), nullable=False),
    sa.Column('note', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chat_row_id'], ['bot_chats.id'], ),
    sa.ForeignKeyConstraint(['creditor_id'], ['bot_users.id'], ),
    sa.ForeignKeyConstraint(['debtor_id'], ['bot_users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'debtor_id', 'creditor_id')
    )
    for col in ('chat_row_id', 'debtor_id', 'creditor_id'):
        op.create_index(f'ix_bot_group_debts_{col}', 'bot_group_debts', [col], unique=False)
    op.create_table('bot_pots',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('chat_row_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.String(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(), nullable=False),
    sa.Column('note', sa.String(), nullable=True),
    sa.Column('invited', sa.Text(), nullable=False),
    sa.Column('everyone', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('remind_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['chat_row_id'], ['bot_chats.id'], ),
    sa.ForeignKeyConstraint(['organiser_id'], ['bot_users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_bot_pots_chat_row_id', 'bot_pots', ['chat_row_id'], unique=False)
    op.create_index('ix_bot_pots_organiser_id', 'bot_pots', ['organiser_id'], unique=False)
    op.create_table('bot_pot_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pot_id', sa.String(), nullable=False),
    sa.Column('payer_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(), nullable=False),
    sa.Column('transfer_id', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['payer_id'], ['bot_users.id'], ),
    sa.ForeignKeyConstraint(['pot_id'], ['bot_pots.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('pot_id', 'payer_id')
    )
    for col in ('pot_id', 'payer_id', 'transfer_id'):
        op.create_index(f'ix_bot_pot_payments_{col}', 'bot_pot_payments', [col], unique=False)
    op.create_table('bot_red_packets',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('chat_row_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.String(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(), nullable=False),
    sa.Column('note', sa.String(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['chat_row_id'], ['bot_chats.id'], ),
    sa.ForeignKeyConstraint(['sender_id'], ['bot_users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_bot_red_packets_chat_row_id', 'bot_red_packets', ['chat_row_id'], unique=False)
    op.create_index('ix_bot_red_packets_sender_id', 'bot_red_packets', ['sender_id'], unique=False)
    op.create_table('bot_packet_parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('packet_id', sa.String(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.String(), nullable=False),
    sa.Column('claimer_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['claimer_id'], ['bot_users.id'], ),
    sa.ForeignKeyConstraint(['packet_id'], ['bot_red_packets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('packet_id', 'idx'),
    sa.UniqueConstraint('packet_id', 'claimer_id')
    )
    op.create_index('ix_bot_packet_parts_packet_id', 'bot_packet_parts', ['packet_id'], unique=False)
    op.create_index('ix_bot_packet_parts_transfer_id', 'bot_packet_parts', ['transfer_id'], unique=False)
    op.create_table('bot_tip_budget',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('total_eur', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['bot_users.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade() -> None:
    op.drop_table('bot_tip_budget')
    op.drop_table('bot_packet_parts')
    op.drop_table('bot_red_packets')
    op.drop_table('bot_pot_payments')
    op.drop_table('bot_pots')
    op.drop_table('bot_group_debts')
    with op.batch_alter_table('bot_users', schema=None) as batch_op:
        batch_op.drop_column('is_bot')
    with op.batch_alter_table('bot_chat_members', schema=None) as batch_op:
        batch_op.drop_column('left_at')
