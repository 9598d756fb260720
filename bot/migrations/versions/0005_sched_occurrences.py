"""standing orders: status, time zone, ends and the occurrence table (one row a run, unique per time)

Revision ID: 0005_sched
Revises: 0004_admin_log, 0004_pin_exposed
Create Date: 2026-12-03 09:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_sched"
down_revision: tuple[str, ...] | None = ("0004_admin_log", "0004_pin_exposed")
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("bot_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tz", sa.String(), nullable=True))
    with op.batch_alter_table("bot_schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(), nullable=False, server_default="send"))
        batch_op.add_column(sa.Column("status", sa.String(), nullable=False, server_default="active"))
        batch_op.add_column(sa.Column("tz", sa.String(), nullable=False, server_default="UTC"))
        batch_op.add_column(sa.Column("anchor", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("until_day", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("runs", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_result", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reminded_for", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "bot_occurrences",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("schedule_id", sa.Integer(), sa.ForeignKey("bot_schedules.id"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(), nullable=False, server_default="due"),
        sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("result", sa.String(), nullable=True),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("claim_token", sa.String(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("schedule_id", "due_at", name="uq_occurrence"),
    )
    op.create_index("ix_bot_occurrences_schedule_id", "bot_occurrences", ["schedule_id"])
    op.create_index("ix_bot_occurrences_run_after", "bot_occurrences", ["run_after"])
    op.create_index("ix_bot_occurrences_status", "bot_occurrences", ["status"])


def downgrade() -> None:
    op.drop_table("bot_occurrences")
    with op.batch_alter_table("bot_schedules", schema=None) as batch_op:
        for name in ("reminded_for", "last_run_at", "last_result", "runs", "until_day", "count", "anchor", "tz",
                     "status", "kind"):
            batch_op.drop_column(name)
    with op.batch_alter_table("bot_users", schema=None) as batch_op:
        batch_op.drop_column("tz")
