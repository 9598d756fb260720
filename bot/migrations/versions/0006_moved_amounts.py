"""what an action moves, kept with it: the limits' day and month sums read one index, not every payload

Revision ID: 0006_moved
Revises: 0005_perf
Create Date: 2026-12-04 02:00:00

- bot_actions.moved_minor, bot_actions.moved_currency: the amount and currency an action takes out of the
  initiator's wallet (bot/moved.py), filled from the payload for the actions already there.
- bot_actions (initiator_id, status, done_at): the per-day and per-month sums of a person's executed actions
  (the tier and operator limits) read only that period's rows; before, each send read and parsed every
  executed action of the month, twice.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision: str = "0006_moved"
down_revision: str = "0005_perf"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    from bot.moved import moved

    with op.batch_alter_table("bot_actions") as batch:
        batch.add_column(sa.Column("moved_minor", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("moved_currency", sa.String(), nullable=True))
    op.create_index("ix_bot_actions_initiator_status_done", "bot_actions", ["initiator_id", "status", "done_at"])
    conn = op.get_bind()
    actions = sa.table("bot_actions", sa.column("id", sa.String()), sa.column("kind", sa.String()),
                       sa.column("payload", sa.Text()), sa.column("moved_minor", sa.BigInteger()),
                       sa.column("moved_currency", sa.String()))
    rows = conn.execute(sa.select(actions.c.id, actions.c.kind, actions.c.payload)).all()
    for aid, kind, body in rows:
        minor, cur = moved(kind, json.loads(body))
        if minor is not None:
            conn.execute(sa.update(actions).where(actions.c.id == aid).values(moved_minor=minor, moved_currency=cur))


def downgrade() -> None:
    op.drop_index("ix_bot_actions_initiator_status_done", table_name="bot_actions")
    with op.batch_alter_table("bot_actions") as batch:
        batch.drop_column("moved_currency")
        batch.drop_column("moved_minor")
