"""Schedules: where each job's schedule stands (with its lease) and what it did.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Plain SQL types only, constraint names spelled out (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _job_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["job_name"], ["jobs.name"], name=f"fk_{table}_job_name_jobs", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("job_name", sa.String(63), nullable=False),
        sa.Column("job_version", sa.Integer(), nullable=False),
        sa.Column("schedule_key", sa.Text(), nullable=True),
        _time("decided_through", nullable=True),
        _time("next_due", nullable=True),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _time("lease_expires_at", nullable=True),
        _job_fk("schedules"),
        sa.PrimaryKeyConstraint("job_name", name="pk_schedules"),
    )
    op.create_index("ix_schedules_next_due", "schedules", ["next_due"])
    op.create_table(
        "schedule_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("job_name", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _time("first_slot"),
        _time("last_slot"),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        _time("at"),
        _job_fk("schedule_history"),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_history"),
        sa.UniqueConstraint(
            "job_name", "kind", "first_slot", name="uq_schedule_history_job_name_kind_first_slot"
        ),
    )
    op.create_index("ix_schedule_history_job_name_at", "schedule_history", ["job_name", "at"])


def downgrade() -> None:
    op.drop_table("schedule_history")
    op.drop_table("schedules")
