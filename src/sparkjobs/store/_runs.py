"""Runs and their events. A state change is a compare-and-set recorded with its event."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sparkjobs import errors, runs
from sparkjobs.store import _cursor
from sparkjobs.store._convert import check_run_fields, rowcount, run_row, to_event, to_run
from sparkjobs.store._jobs import version_row
from sparkjobs.store.tables import RunEventRow, RunRow


def insert_run(s: Session, run: runs.Run) -> runs.Run:
    """Store a new run with its first event. Raises JobNotFound, or Conflict for a taken slot."""
    version_row(s, run.job, run.job_version)
    s.add(run_row(run))
    try:
        # Flushed on its own: without ORM relationships the flush would not know
        # that the event's row needs the run's row first.
        s.flush()
    except IntegrityError as exc:
        raise _insert_conflict(run) from exc
    _add_event(s, run.id, None, run.state, f"created by {run.trigger.value}", run.created_at)
    s.flush()
    return run


def get_run(s: Session, run_id: str) -> runs.Run:
    return to_run(_row(s, run_id))


def list_runs(
    s: Session,
    *,
    job: str | None = None,
    states: Collection[runs.RunState] | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[runs.Run], str | None]:
    """One page of runs, newest first, and the cursor of the next page (None on the last).

    Raises Invalid for a cursor list_runs did not return, or a limit below 1.
    """
    if limit < 1:
        raise errors.Invalid(f"limit must be at least 1, not {limit}", field="limit")
    query = _filtered(job=job, states=states)
    if cursor:  # an empty cursor (e.g. '?cursor=') means the first page
        at, last_id = _cursor.decode(cursor)
        older = and_(RunRow.created_at == at, RunRow.id < last_id)
        query = query.where(or_(RunRow.created_at < at, older))
    order = (RunRow.created_at.desc(), RunRow.id.desc())
    rows = s.scalars(query.order_by(*order).limit(limit + 1)).all()
    page = [to_run(row) for row in rows[:limit]]
    more = len(rows) > limit
    return page, _cursor.encode(page[-1].created_at, page[-1].id) if more else None


def runs_in_states(
    s: Session,
    states: Collection[runs.RunState],
    *,
    backend: str | None = None,
    owner: str | None = None,
    backends: Collection[str] | None = None,
    ready_by: datetime | None = None,
    limit: int | None = None,
) -> list[runs.Run]:
    """Runs in the given states, oldest first (the supervisor's work list).

    backends keeps runs of those backends only; ready_by keeps runs whose
    not_before has come by then (a retry's backoff, a slot decided ahead);
    limit caps how many come back, so thousands of waiting runs cost one page.
    """
    query = _filtered(states=states, backend=backend, owner=owner)
    if backends is not None:
        query = query.where(RunRow.backend.in_(list(backends)))
    if ready_by is not None:
        query = query.where(or_(RunRow.not_before.is_(None), RunRow.not_before <= ready_by))
    query = query.order_by(RunRow.created_at, RunRow.id)
    if limit is not None:
        query = query.limit(limit)
    return [to_run(row) for row in s.scalars(query)]


def count_runs_by_state(s: Session) -> dict[runs.RunState, int]:
    """How many runs are in each state (states with none are 0)."""
    counts = dict.fromkeys(runs.RunState, 0)
    query = select(RunRow.state, func.count()).group_by(RunRow.state)
    for state, count in s.execute(query):
        counts[runs.RunState(state)] = int(count)
    return counts


def count_runs_in_states(
    s: Session, states: Collection[runs.RunState], *, owner: str | None = None
) -> int:
    query = _filtered(states=states, owner=owner)
    return s.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def transition(
    s: Session,
    run_id: str,
    from_state: runs.RunState,
    to_state: runs.RunState,
    reason: str,
    at: datetime,
    **fields: Any,
) -> runs.Run:
    """Move a run from from_state to to_state, record the event, and set fields with it.

    The run's reason becomes `reason`. Raises InvalidTransition if the table forbids
    the move, RunNotFound, or StaleState if the run is no longer in from_state
    (someone else moved it first: reload and decide again). TypeError for a field
    that is not a run field a caller may set.
    """
    check_run_fields(fields, "transition")
    runs.check_transition(from_state, to_state)
    moved = s.execute(
        update(RunRow)
        .where(RunRow.id == run_id, RunRow.state == from_state.value)
        .values(state=to_state.value, reason=reason, **fields)
    )
    if rowcount(moved) == 0:
        raise _not_moved(s, run_id, from_state)
    _add_event(s, run_id, from_state, to_state, reason, at)
    s.flush()
    return get_run(s, run_id)


def update_run(s: Session, run_id: str, **fields: Any) -> runs.Run:
    """Set fields other than the state (handle, app id, ...). Raises RunNotFound, TypeError."""
    check_run_fields(fields, "update_run")
    row = _row(s, run_id)
    for name, value in fields.items():
        setattr(row, name, value)
    s.flush()
    return to_run(row)


def list_events(s: Session, run_id: str) -> list[runs.RunEvent]:
    """The run's events, oldest first."""
    rows = s.scalars(
        select(RunEventRow).where(RunEventRow.run_id == run_id).order_by(RunEventRow.id)
    )
    return [to_event(row) for row in rows]


def _filtered(
    *,
    job: str | None = None,
    states: Collection[runs.RunState] | None = None,
    backend: str | None = None,
    owner: str | None = None,
) -> Select[RunRow]:
    query = select(RunRow)
    if job is not None:
        query = query.where(RunRow.job_name == job)
    if states is not None:
        query = query.where(RunRow.state.in_([state.value for state in states]))
    if backend is not None:
        query = query.where(RunRow.backend == backend)
    if owner is not None:
        query = query.where(RunRow.owner == owner)
    return query


def _row(s: Session, run_id: str) -> RunRow:
    row = s.get(RunRow, run_id)
    if row is None:
        raise errors.RunNotFound(f"run '{run_id}' not found; list runs with 'sparkjobs runs list'")
    return row


def add_note(s: Session, run_id: str, text: str, at: datetime) -> None:
    """Record something that happened to a run without a state change (from == to state).

    Used for what a person should see on the timeline: the commit a git ref
    resolved to, which binding supplied which variable, an alert's delivery.
    """
    state = s.scalar(select(RunRow.state).where(RunRow.id == run_id))
    if state is None:
        raise errors.RunNotFound(f"run '{run_id}' not found; list runs with 'sparkjobs runs list'")
    current = runs.RunState(state)
    _add_event(s, run_id, current, current, text, at)
    s.flush()


def _add_event(
    s: Session,
    run_id: str,
    from_state: runs.RunState | None,
    to_state: runs.RunState,
    reason: str,
    at: datetime,
) -> None:
    from_value = from_state.value if from_state else None
    s.add(
        RunEventRow(
            run_id=run_id, at=at, from_state=from_value, to_state=to_state.value, reason=reason
        )
    )


def _not_moved(s: Session, run_id: str, expected: runs.RunState) -> errors.SparkJobsError:
    actual = s.scalar(select(RunRow.state).where(RunRow.id == run_id))
    if actual is None:
        return errors.RunNotFound(f"run '{run_id}' not found; list runs with 'sparkjobs runs list'")
    return errors.StaleState(f"run {run_id} is {actual} now, not {expected}; reload it")


def _insert_conflict(run: runs.Run) -> errors.Conflict:
    # The job and version were checked just before, so the key that clashed is the slot
    # (scheduled runs) or, in theory, the random id.
    if run.scheduled_for is not None:
        return errors.Conflict(
            f"a run for job {run.job} at {run.scheduled_for.isoformat()} exists already"
        )
    return errors.Conflict(f"a run with id {run.id} exists already; use a new id")
