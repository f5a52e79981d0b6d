"""The schema, as typed ORM classes. Only the store sees these rows.

Constraint names follow one convention so migrations can name what they alter.
Changing a class here needs a new migration in migrations/versions (the test
suite compares the two).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sparkjobs.store.coltypes import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
#: SQLite only auto-increments an INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class JobRow(Base):
    __tablename__ = "jobs"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    current_version: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class JobVersionRow(Base):
    __tablename__ = "job_versions"

    job_name: Mapped[str] = mapped_column(
        String(63), ForeignKey("jobs.name", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: JobSpec.model_dump(mode="json")
    spec: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index(None, "job_name", "created_at"),
        Index(None, "created_at", "id"),
        # One run per scheduled slot; NULL (not scheduled) may repeat.
        UniqueConstraint("job_name", "scheduled_for"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_name: Mapped[str] = mapped_column(String(63), ForeignKey("jobs.name", ondelete="CASCADE"))
    job_version: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), index=True)
    trigger: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int]
    overrides: Mapped[dict[str, Any]]
    exit_code: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(Text)
    spark_app_id: Mapped[str | None] = mapped_column(String(255))
    spark_ui_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    not_before: Mapped[datetime | None]
    parent_id: Mapped[str | None] = mapped_column(String(32))
    scheduled_for: Mapped[datetime | None]
    backend: Mapped[str] = mapped_column(String(32))
    handle: Mapped[dict[str, Any] | None]
    owner: Mapped[str | None] = mapped_column(String(255))


class RunEventRow(Base):
    __tablename__ = "run_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)


class ArtifactRow(Base):
    __tablename__ = "artifacts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class KeyValueRow(Base):
    """Server-wide values, such as the admin token's hash."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ScheduleRow(Base):
    """Where a job's schedule stands: one row per job, scheduled or not.

    Every job gets a row (the scheduler adds missing ones), so a job whose
    version the scheduler has not seen yet is found by comparing versions.
    `suspended` is the operational switch of suspend/resume; the spec's own
    `suspended` also suspends (either one does).
    """

    __tablename__ = "schedules"

    job_name: Mapped[str] = mapped_column(
        String(63), ForeignKey("jobs.name", ondelete="CASCADE"), primary_key=True
    )
    #: The job version last looked at; 0 until the scheduler sees the job.
    job_version: Mapped[int]
    #: The cron and zone decided_through belongs to (a change restarts from now); None: none.
    schedule_key: Mapped[str | None] = mapped_column(Text)
    decided_through: Mapped[datetime | None]
    #: When the scheduler has work for this row next; None: never (no schedule, suspended).
    next_due: Mapped[datetime | None] = mapped_column(index=True)
    suspended: Mapped[bool] = mapped_column(Boolean)
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None]


class ScheduleHistoryRow(Base):
    """What a schedule did: fired, skipped (a range, with the reason), manual, suspended..."""

    __tablename__ = "schedule_history"
    __table_args__ = (
        Index(None, "job_name", "at"),
        # Deciding is idempotent: a slot decided twice (a lease that ran out) is recorded once.
        UniqueConstraint("job_name", "kind", "first_slot"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    job_name: Mapped[str] = mapped_column(String(63), ForeignKey("jobs.name", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    first_slot: Mapped[datetime]
    last_slot: Mapped[datetime]
    #: Slots in the range; None when more than schedules.COUNT_CAP.
    count: Mapped[int | None]
    run_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class BindingRow(Base):
    """A service binding: a named set of variables jobs list. Secrets are stored sealed."""

    __tablename__ = "bindings"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    #: envvars.Binding.model_dump(mode="json"), every secret as secret_ciphertext.
    spec: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
