"""indexes for what grows with the book: a person's actions by status and time, due actions by status

Revision ID: 0005_perf
Revises: 0004_admin_log, 0004_pin_exposed
Create Date: 2026-12-03 09:50:00

- bot_actions (initiator_id, status, created_at): the next card waiting for a PIN, /cancel's waiting
  cards, the velocity count and the new-payee check read one person's actions of one status (newest
  first); with only initiator_id indexed each read every action the person ever made.
- bot_actions (status, expires_at): the tick's expiry sweep and the executions to resume read by status
  (and due time) across everyone; without it each tick scanned every action.
"""

from __future__ import annotations

from alembic import op

revision: str = "0005_perf"
down_revision: tuple[str, str] = ("0004_admin_log", "0004_pin_exposed")
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_bot_actions_initiator_status_created", "bot_actions", ["initiator_id", "status", "created_at"])
    op.create_index("ix_bot_actions_status_expires", "bot_actions", ["status", "expires_at"])
    op.drop_index("ix_bot_actions_initiator_id", table_name="bot_actions")  # the new one's prefix serves its reads


def downgrade() -> None:
    op.create_index("ix_bot_actions_initiator_id", "bot_actions", ["initiator_id"])
    op.drop_index("ix_bot_actions_status_expires", table_name="bot_actions")
    op.drop_index("ix_bot_actions_initiator_status_created", table_name="bot_actions")
