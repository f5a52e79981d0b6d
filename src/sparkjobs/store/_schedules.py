"""Schedules' state, leases and history, and the scheduler's batched run inserts.

Firing is exactly once per slot because runs has UNIQUE(job_name, scheduled_for)
and scheduled runs go in with ON CONFLICT DO NOTHING: whoever inserts a slot
second (another server, or this one after a crash) inserts nothing. Leases only
keep servers from doing the same work twice; they are not what makes it correct.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from sparkjobs import jobs, runs
from sparkjobs.store._jobs import job_not_found
from sparkjobs.store.tables import (
    JobRow,
    JobVersionRow,
    RunEventRow,
    RunRow,
    ScheduleHistoryRow,
    ScheduleRow,
)


@dataclass(frozen=True, kw_only=True)
class ScheduleState:
    """A schedules row: how far the job's schedule is decided, and who holds it."""

    job: str
    #: The job version last looked at (0: never).
    job_version: int
    schedule_key: str | None
    decided_through: datetime | None
    next_due: datetime | None
    suspended: bool
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ClaimedSchedule:
    """A schedule this server holds the lease of, with the job's current version."""

    state: ScheduleState
    job: jobs.Job


@dataclass(frozen=True, kw_only=True)
class ScheduleUpdate:
    """What the scheduler decided for one claimed schedule; written when it releases it."""

    job: str
    job_version: int
    schedule_key: str | None
    decided_through: datetime | None
    next_due: datetime | None


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    job: str
    #: "fired", "skipped", "manual", "suspended" or "resumed".
    kind: str
    first: datetime
    last: datetime
    count: int | None
    run_id: str | None
    reason: str
    at: datetime


def add_missing_schedules(s: Session) -> None:
    """Give every job without a schedules row one (version 0: not looked at yet)."""
    no_row = ~exists().where(ScheduleRow.job_name == JobRow.name)
    if not s.scalar(select(select(JobRow.name).where(no_row).exists())):
        return  # the usual case; reading first keeps SQLite's write lock free
    missing = select(JobRow.name, literal(0), false()).where(no_row)
    columns = ["job_name", "job_version", "suspended"]
    s.execute(
        _insert(s, _table(ScheduleRow)).from_select(columns, missing).on_conflict_do_nothing()
    )


def claim_due_schedules(
    s: Session, owner: str, now: datetime, lease_seconds: float, limit: int
) -> list[ClaimedSchedule]:
    """Lease up to `limit` schedules that have work: due, or their job changed since.

    A lease is free when nobody holds it, it ran out, or `owner` holds it already
    (a restarted server). PostgreSQL skips rows another server is claiming right
    now (FOR UPDATE SKIP LOCKED); SQLite runs the one UPDATE under its write lock.
    """
    lease_free = or_(
        ScheduleRow.lease_owner.is_(None),
        ScheduleRow.lease_expires_at <= now,
        ScheduleRow.lease_owner == owner,
    )
    has_work = or_(ScheduleRow.next_due <= now, ScheduleRow.job_version != JobRow.current_version)
    candidates = (
        select(ScheduleRow.job_name)
        .join(JobRow, JobRow.name == ScheduleRow.job_name)
        .where(lease_free, has_work)
    )
    if not s.scalar(select(candidates.exists())):
        return []  # nothing due: no write (on SQLite, no write lock) on an idle tick
    due = (
        candidates.order_by(ScheduleRow.next_due)
        .limit(limit)
        .with_for_update(of=ScheduleRow, skip_locked=True)
    )
    expires = now + timedelta(seconds=lease_seconds)
    claimed = s.scalars(
        update(ScheduleRow)
        .where(ScheduleRow.job_name.in_(due.scalar_subquery()))
        .values(lease_owner=owner, lease_expires_at=expires)
        .returning(ScheduleRow.job_name)
        .execution_options(synchronize_session=False)
    ).all()
    return _with_jobs(s, list(claimed))


def _with_jobs(s: Session, names: list[str]) -> list[ClaimedSchedule]:
    # Plain columns, not ORM objects: 10,000 claimed rows would cost seconds otherwise.
    if not names:
        return []
    rows = s.execute(
        select(*_STATE_COLUMNS, JobRow.current_version, JobRow.created_at, JobRow.updated_at)
        .add_columns(JobVersionRow.spec)
        .join(JobRow, JobRow.name == ScheduleRow.job_name)
        .join(
            JobVersionRow,
            and_(
                JobVersionRow.job_name == JobRow.name,
                JobVersionRow.version == JobRow.current_version,
            ),
        )
        .where(ScheduleRow.job_name.in_(names))
        .order_by(ScheduleRow.job_name)
    )
    return [_claimed(row) for row in rows]


_STATE_COLUMNS = (
    ScheduleRow.job_name,
    ScheduleRow.job_version,
    ScheduleRow.schedule_key,
    ScheduleRow.decided_through,
    ScheduleRow.next_due,
    ScheduleRow.suspended,
    ScheduleRow.lease_owner,
    ScheduleRow.lease_expires_at,
)


def _claimed(row: Row[Any]) -> ClaimedSchedule:
    values: tuple[Any, ...] = tuple(row)
    name, seen, key, through, due, suspended, owner, expires = values[:8]
    version, created_at, updated_at, spec = values[8:]
    state = ScheduleState(
        job=name,
        job_version=seen,
        schedule_key=key,
        decided_through=through,
        next_due=due,
        suspended=suspended,
        lease_owner=owner,
        lease_expires_at=expires,
    )
    job = jobs.Job(
        name=name,
        version=version,
        spec=_job_spec(name, version, spec),
        created_at=created_at,
        updated_at=updated_at,
    )
    return ClaimedSchedule(state=state, job=job)


#: (job, version) -> (stored spec, validated spec). Versions never change, but a
#: job deleted and made again restarts at version 1: the stored spec is compared.
_SPECS: dict[tuple[str, int], tuple[dict[str, Any], jobs.JobSpec]] = {}
_SPECS_MAX = 50_000


def _job_spec(name: str, version: int, stored: dict[str, Any]) -> jobs.JobSpec:
    """The validated JobSpec of a stored version; validating costs ~70 us, a hit ~1 us."""
    cached = _SPECS.get((name, version))
    if cached is not None and cached[0] == stored:
        return cached[1]
    spec = jobs.JobSpec.model_validate(stored)
    if len(_SPECS) >= _SPECS_MAX:
        _SPECS.clear()
    _SPECS[name, version] = (stored, spec)
    return spec


def release_schedules(s: Session, owner: str, updates: Sequence[ScheduleUpdate]) -> None:
    """Store the decisions and free the leases, for rows `owner` still holds.

    A row whose lease ran out and went to another server is left alone: that
    server decides again, and the runs' unique slot key keeps firing exactly once.
    """
    if not updates:
        return
    table = _table(ScheduleRow)
    statement = (
        update(table)
        .where(table.c.job_name == bindparam("b_job"), table.c.lease_owner == bindparam("b_owner"))
        .values(
            job_version=bindparam("b_version"),
            schedule_key=bindparam("b_key"),
            decided_through=bindparam("b_through"),
            next_due=bindparam("b_next"),
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    s.execute(statement, [_update_params(owner, u) for u in updates])


def _update_params(owner: str, u: ScheduleUpdate) -> dict[str, Any]:
    return {
        "b_job": u.job,
        "b_owner": owner,
        "b_version": u.job_version,
        "b_key": u.schedule_key,
        "b_through": u.decided_through,
        "b_next": u.next_due,
    }


def insert_scheduled_runs(s: Session, new_runs: Sequence[runs.Run]) -> set[str]:
    """Insert runs of slots; a slot that has a run already is skipped. Returns the inserted ids.

    Each inserted run gets its "created by schedule" event, as insert_run does.
    Rows go in sorted by (job, slot), so two servers inserting overlapping
    batches take the unique index's locks in one order and never deadlock.
    """
    ordered = sorted(new_runs, key=lambda r: (r.job, r.scheduled_for or r.created_at))
    if not ordered:
        return set()
    # One small statement, many parameter sets (sqlite3's executemany, psycopg's
    # pipeline), then one read of which ids went in. RETURNING would make SQLAlchemy
    # build one huge multi-row INSERT per batch, which psycopg then spends most of
    # the batch's time parsing.
    s.execute(
        _insert(s, _table(RunRow)).on_conflict_do_nothing(), [_run_values(r) for r in ordered]
    )
    ids = [r.id for r in ordered]
    inserted = set(s.scalars(select(RunRow.id).where(RunRow.id.in_(ids))))
    events = [_created_event(r) for r in ordered if r.id in inserted]
    if events:
        s.execute(_insert(s, _table(RunEventRow)), events)
    return inserted


def _run_values(run: runs.Run) -> dict[str, Any]:
    """The runs row of `run` as parameters: what _convert.run_row holds, without the ORM
    object (building 10,000 of those took most of a second)."""
    return {
        "id": run.id,
        "job_name": run.job,
        "job_version": run.job_version,
        "state": run.state.value,
        "trigger": run.trigger.value,
        "attempt": run.attempt,
        "overrides": run.overrides.as_dict(),
        "exit_code": run.exit_code,
        "reason": run.reason,
        "spark_app_id": run.spark_app_id,
        "spark_ui_url": run.spark_ui_url,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "not_before": run.not_before,
        "parent_id": run.parent_id,
        "scheduled_for": run.scheduled_for,
        "backend": run.backend,
        "handle": run.handle,
        "owner": run.owner,
    }


def _created_event(run: runs.Run) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "at": run.created_at,
        "from_state": None,
        "to_state": run.state.value,
        "reason": f"created by {run.trigger.value}",
    }


def withdraw_scheduled_runs(s: Session, job: str, after: datetime) -> list[str]:
    """Take back the runs decided ahead for the job's slots after `after`; return their ids.

    Only runs still queued go (with their events and "fired" entries), and the
    schedule's decided_through goes back to `after`: those slots are undecided
    again, so the scheduler decides them anew (or, when suspended, counts them as
    missed). A run the supervisor has picked up already stays: its slot fired.
    """
    withdrawn = list(
        s.scalars(
            delete(RunRow)
            .where(
                RunRow.job_name == job,
                RunRow.trigger == runs.Trigger.SCHEDULE.value,
                RunRow.state == runs.RunState.QUEUED.value,
                RunRow.scheduled_for > after,
            )
            .returning(RunRow.id)
            .execution_options(synchronize_session=False)
        )
    )
    if withdrawn:
        s.execute(
            delete(ScheduleHistoryRow)
            .where(ScheduleHistoryRow.job_name == job, ScheduleHistoryRow.run_id.in_(withdrawn))
            .execution_options(synchronize_session=False)
        )
    s.execute(
        update(ScheduleRow)
        .where(ScheduleRow.job_name == job, ScheduleRow.decided_through > after)
        .values(decided_through=after)
        .execution_options(synchronize_session=False)
    )
    return withdrawn


def active_runs_of(s: Session, job_names: Collection[str]) -> dict[str, list[str]]:
    """The ids of each job's active runs, oldest first (jobs without any are left out)."""
    if not job_names:
        return {}
    rows = s.execute(
        select(RunRow.job_name, RunRow.id)
        .where(
            RunRow.job_name.in_(list(job_names)),
            RunRow.state.in_([state.value for state in runs.ACTIVE]),
        )
        .order_by(RunRow.created_at, RunRow.id)
    )
    found: dict[str, list[str]] = {}
    for name, run_id in rows:
        found.setdefault(name, []).append(run_id)
    return found


def add_history(s: Session, entries: Sequence[HistoryEntry]) -> None:
    """Record what schedules did; an entry recorded already (same job, kind, first) is kept."""
    if entries:
        statement = _insert(s, _table(ScheduleHistoryRow)).on_conflict_do_nothing()
        s.execute(statement, [_history_values(e) for e in entries])


def _history_values(e: HistoryEntry) -> dict[str, Any]:
    return {
        "job_name": e.job,
        "kind": e.kind,
        "first_slot": e.first,
        "last_slot": e.last,
        "count": e.count,
        "run_id": e.run_id,
        "reason": e.reason,
        "at": e.at,
    }


def list_history(s: Session, job: str, *, limit: int = 50) -> list[HistoryEntry]:
    """A job's schedule history, newest first."""
    rows = s.scalars(
        select(ScheduleHistoryRow)
        .where(ScheduleHistoryRow.job_name == job)
        .order_by(ScheduleHistoryRow.at.desc(), ScheduleHistoryRow.id.desc())
        .limit(limit)
    )
    return [_entry(row) for row in rows]


def _entry(row: ScheduleHistoryRow) -> HistoryEntry:
    return HistoryEntry(
        job=row.job_name,
        kind=row.kind,
        first=row.first_slot,
        last=row.last_slot,
        count=row.count,
        run_id=row.run_id,
        reason=row.reason,
        at=row.at,
    )


def get_schedule_state(s: Session, job: str) -> ScheduleState | None:
    """The job's schedules row; None when the scheduler has not seen the job yet."""
    row = s.get(ScheduleRow, job)
    return _state(row) if row is not None else None


def set_suspended(s: Session, job: str, suspended: bool, next_due: datetime | None) -> None:
    """Flip the job's suspend switch and set when the scheduler looks at it next."""
    if s.get(JobRow, job) is None:
        raise job_not_found(job)
    values = {"suspended": suspended, "next_due": next_due}
    inserted = _insert(s, _table(ScheduleRow)).values(job_name=job, job_version=0, **values)
    s.execute(inserted.on_conflict_do_update(index_elements=["job_name"], set_=values))
    s.expire_all()


def _state(row: ScheduleRow) -> ScheduleState:
    return ScheduleState(
        job=row.job_name,
        job_version=row.job_version,
        schedule_key=row.schedule_key,
        decided_through=row.decided_through,
        next_due=row.next_due,
        suspended=row.suspended,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
    )


def _table(row_class: type[Any]) -> Table:
    table = row_class.__table__
    assert isinstance(table, Table)
    return table


def _insert(s: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT for the session's dialect, with ON CONFLICT support (both spell it alike)."""
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def earliest_due(s: Session, after: datetime) -> datetime | None:
    """The first next_due later than `after`: when the scheduler has work next."""
    return s.scalar(select(func.min(ScheduleRow.next_due)).where(ScheduleRow.next_due > after))
