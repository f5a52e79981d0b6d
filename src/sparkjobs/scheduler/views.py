"""What the API and CLI call: a job's schedule as shown, suspend, resume, manual runs.

Suspend and resume flip a switch in the job's schedules row instead of storing
a new job version: a version says what the job is, the switch says whether the
server fires it right now. The spec's own `suspended: true` also suspends, and
only a change of the spec lifts that one (resume says so).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sparkjobs import errors, jobs, schedules
from sparkjobs.scheduler.decide import effective_spec
from sparkjobs.store import Database, Session, repo

HISTORY_LIMIT = 50


def schedule_view(db: Database, job: str, now: datetime) -> dict[str, Any]:
    """The job's schedule for display: next runs (in its zone and UTC), history, suspended.

    {"schedule": {...} | None, "description": str | None, "suspended": bool,
     "next_runs": [{"at": UTC ISO, "local": ISO in the schedule's zone}],
     "decided_through": ISO | None, "history": [{"kind", "first", "last", "count",
     "run_id", "reason", "at"}, ...] newest first}
    """
    with db.session() as s:
        spec = repo.get_job(s, job).spec.schedule
        state = repo.get_schedule_state(s, job)
        history = repo.list_history(s, job, limit=HISTORY_LIMIT)
    if spec is None:
        return {"schedule": None, "description": None, "suspended": False, "next_runs": []}
    shown = effective_spec(spec, state)
    upcoming = [] if shown.suspended else schedules.next_runs(spec, now, 5)
    return {
        "schedule": spec.model_dump(mode="json"),
        "description": schedules.describe(spec),
        "suspended": shown.suspended,
        "next_runs": [{"at": _iso(at), "local": _iso(local)} for at, local in upcoming],
        "decided_through": _iso(state.decided_through) if state else None,
        "history": [_history_out(e) for e in history],
    }


def suspend(db: Database, job: str, now: datetime) -> None:
    """Stop firing the job's schedule; slots until resume count as missed. Idempotent.

    A run stored ahead for a slot still to come (scheduler.decide) is withdrawn:
    its slot counts as missed too.
    """
    with db.session() as s:
        _schedule_of(s, job)
        if _switched_off(s, job):
            return
        repo.set_suspended(s, job, True, None)
        repo.withdraw_scheduled_runs(s, job, now)
        repo.add_history(s, [_mark(job, "suspended", "suspended on request", now)])


def resume(db: Database, job: str, now: datetime) -> None:
    """Fire the job's schedule again; missed slots follow its missed_runs policy. Idempotent.

    Raises Conflict when the job's spec itself says suspended: true.
    """
    with db.session() as s:
        spec = _schedule_of(s, job)
        if spec.suspended:
            raise errors.Conflict(
                f"job '{job}' is suspended by its spec (schedule.suspended: true); "
                "set it to false with 'sparkjobs jobs apply' to resume the schedule"
            )
        if not _switched_off(s, job):
            return
        # Due now: the next tick decides the slots missed meanwhile.
        repo.set_suspended(s, job, False, now)
        repo.add_history(s, [_mark(job, "resumed", "resumed on request", now)])


def record_manual(db: Database, job: str, run_id: str, now: datetime) -> None:
    """Record a run someone asked for ("run now") in a scheduled job's history.

    Call it after Supervisor.request_run with trigger api; a job without a
    schedule has no history, and nothing is recorded.
    """
    with db.session() as s:
        if repo.get_job(s, job).spec.schedule is None:
            return
        entry = _mark(job, "manual", "run now, outside the schedule", now, run_id=run_id)
        repo.add_history(s, [entry])


def _schedule_of(s: Session, job: str) -> schedules.ScheduleSpec:
    spec: jobs.JobSpec = repo.get_job(s, job).spec
    if spec.schedule is None:
        raise errors.Invalid(
            f"job '{job}' has no schedule; add one to its spec to suspend or resume it",
            field="schedule",
        )
    return spec.schedule


def _switched_off(s: Session, job: str) -> bool:
    state = repo.get_schedule_state(s, job)
    return state is not None and state.suspended


def _mark(
    job: str, kind: str, reason: str, now: datetime, *, run_id: str | None = None
) -> repo.HistoryEntry:
    return repo.HistoryEntry(
        job=job, kind=kind, first=now, last=now, count=None, run_id=run_id, reason=reason, at=now
    )


def _history_out(e: repo.HistoryEntry) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "first": _iso(e.first),
        "last": _iso(e.last),
        "count": e.count,
        "run_id": e.run_id,
        "reason": e.reason,
        "at": _iso(e.at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
