"""/api/v1/jobs/{name}/schedule: a job's schedule with its history; suspend and resume it.

Suspend and resume flip the server's switch for the job (no new job version);
a spec that says `suspended: true` can only be lifted by changing the spec,
so resume answers 409 then. A job without a schedule cannot be suspended (422).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from sparkjobs import jobs, scheduler, schedules, store
from sparkjobs.api.deps import DbDep
from sparkjobs.api.schemas import HistoryOut, NextRun, ScheduleInfo, ScheduleOut
from sparkjobs.scheduler import decide, views
from sparkjobs.store import Session, repo

router = APIRouter(prefix="/jobs", tags=["schedules"])

#: How many upcoming slots a job shows (a list of jobs: the next one only).
NEXT_RUNS = 5


def _now() -> datetime:
    return datetime.now(UTC)


def info(s: Session, job: jobs.Job, now: datetime, count: int = NEXT_RUNS) -> ScheduleInfo | None:
    """The job's schedule at a glance with its next `count` slots; None without a schedule.

    One primary-key read and no history, so a list of jobs can show it for each
    (with count=1: five slots of 500 jobs took ~70 ms, one slot ~20 ms).
    """
    spec = job.spec.schedule
    if spec is None:
        return None
    suspended = decide.effective_spec(spec, repo.get_schedule_state(s, job.name)).suspended
    upcoming = [] if suspended else schedules.next_runs(spec, now, count)
    return ScheduleInfo(
        description=schedules.describe(spec),
        suspended=suspended,
        next_runs=[NextRun(at=at, local=local) for at, local in upcoming],
    )


def _view(db: store.Database, name: str, limit: int = views.HISTORY_LIMIT) -> ScheduleOut:
    view: dict[str, Any] = scheduler.schedule_view(db, name, _now())
    return ScheduleOut.model_validate(
        {
            "job": name,
            "decided_through": None,
            **view,
            "history": [HistoryOut.model_validate(e) for e in view.get("history", [])[:limit]],
        }
    )


@router.get("/{name}/schedule")
def get_schedule(
    name: str,
    db: DbDep,
    limit: Annotated[
        int, Query(ge=1, le=views.HISTORY_LIMIT, description="history entries at most")
    ] = views.HISTORY_LIMIT,
) -> ScheduleOut:
    """The schedule, its next runs (UTC and the schedule's zone) and its history, newest first.

    History: slots fired (with the run), slots skipped (with the reason), runs
    started by hand ("manual"), suspends and resumes. A job without a schedule
    shows `schedule: null`.
    """
    return _view(db, name, limit)


@router.post("/{name}/schedule/suspend")
def suspend(name: str, db: DbDep) -> ScheduleOut:
    """Stop firing the schedule until resumed (idempotent); 422 if the job has no schedule."""
    scheduler.suspend(db, name, _now())
    return _view(db, name)


@router.post("/{name}/schedule/resume")
def resume(name: str, db: DbDep) -> ScheduleOut:
    """Fire the schedule again (idempotent); slots missed meanwhile follow `missed_runs`.

    409 when the spec itself says `suspended: true` (change the spec to lift that).
    """
    scheduler.resume(db, name, _now())
    return _view(db, name)
