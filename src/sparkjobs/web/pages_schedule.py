"""A job's schedule on the pages: the form's live preview, Suspend / Resume, and what
the jobs list and the job page show of a schedule and its history.

The scheduler owns the schedule's state; this module only asks it
(scheduler.schedule_view, suspend, resume) and shapes the answers for templates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from sparkjobs import alerts, errors, jobs, scheduler, schedules, store
from sparkjobs.store import repo
from sparkjobs.web import render
from sparkjobs.web.deps import DbDep, FormDep, PageError, VisitorDep
from sparkjobs.web.sections import schedule
from sparkjobs.web.sections.schedule import NextRun

router = APIRouter()


@dataclass(frozen=True)
class ScheduleCell:
    """A job's schedule in the jobs list."""

    words: str
    suspended: bool
    next_run: NextRun | None


@dataclass(frozen=True)
class HistoryRow:
    kind: str
    at: datetime
    first: datetime
    last: datetime
    count: int | None
    run_id: str | None
    reason: str

    @property
    def slots(self) -> str:
        """The slot(s) a fired or skipped entry is about; '' for suspend, resume, manual."""
        if self.kind not in ("fired", "skipped"):
            return ""
        if self.first == self.last:
            return render.when(self.first)
        first, last = render.when(self.first), render.when(self.last)
        return f"{self.count or 'several'} slots, {first} to {last}"


@dataclass(frozen=True)
class JobSchedule:
    """A job's schedule on its page."""

    spec: schedules.ScheduleSpec
    words: str
    suspended: bool
    #: Suspended by the spec itself (schedule.suspended): only an edit lifts it.
    by_spec: bool
    next_runs: list[NextRun]
    history: list[HistoryRow]


def list_cell(s: store.Session, job: jobs.Job, now: datetime) -> ScheduleCell | None:
    """The Schedule and Next run columns of a job; None for a job without a schedule."""
    spec = job.spec.schedule
    if spec is None:
        return None
    state = repo.get_schedule_state(s, job.name)
    suspended = spec.suspended or (state is not None and state.suspended)
    upcoming = [] if suspended else schedules.next_runs(spec, now, 1)
    next_run = NextRun(*upcoming[0]) if upcoming else None
    return ScheduleCell(words=schedules.describe(spec), suspended=suspended, next_run=next_run)


def job_schedule(db: store.Database, job: jobs.Job, now: datetime) -> JobSchedule | None:
    """The schedule, next runs and history of a job's page; None without a schedule."""
    spec = job.spec.schedule
    if spec is None:
        return None
    view = scheduler.schedule_view(db, job.name, now)
    return JobSchedule(
        spec=spec,
        words=str(view["description"]),
        suspended=bool(view["suspended"]),
        by_spec=spec.suspended,
        # The view's ISO times carry offsets only; the zone gives them their names (CET).
        next_runs=[_next_run(spec, n["at"]) for n in view["next_runs"]],
        history=[_history_row(entry) for entry in view["history"]],
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _next_run(spec: schedules.ScheduleSpec, at: str) -> NextRun:
    utc = _time(at)
    return NextRun(utc, schedules.in_zone(spec, utc))


def _history_row(entry: dict[str, Any]) -> HistoryRow:
    return HistoryRow(
        kind=entry["kind"],
        at=_time(entry["at"]),
        first=_time(entry["first"]),
        last=_time(entry["last"]),
        count=entry["count"],
        run_id=entry["run_id"],
        reason=entry["reason"],
    )


def alert_summary(spec: jobs.JobSpec) -> list[tuple[str, list[str]]]:
    """('On failure', ['email ops@example.com', 'webhook https://host/...']) per non-empty list.

    A webhook shows only its host: its path may hold a token.
    """
    if spec.notify is None:
        return []
    lists = (
        ("On failure", spec.notify.on_failure),
        ("On success", spec.notify.on_success),
        ("On start", spec.notify.on_start),
    )
    return [(name, [alerts.describe_target(t) for t in found]) for name, found in lists if found]


@router.get("/schedule-preview", response_class=HTMLResponse)
def schedule_preview(
    request: Request, _: VisitorDep, schedule_cron: str = "", schedule_timezone: str = ""
) -> Response:
    """The form's preview of the cron and time zone being typed (an htmx fragment)."""
    shown = schedule.preview(schedule_cron, schedule_timezone, datetime.now(UTC))
    return render.page(request, "jobs/form/_schedule_preview.html", {"preview": shown})


@router.post("/jobs/{name}/schedule/suspend")
def suspend(name: str, _: FormDep, db: DbDep) -> Response:
    _switch(scheduler.suspend, db, name)
    return render.redirect(f"/jobs/{name}")


@router.post("/jobs/{name}/schedule/resume")
def resume(name: str, _: FormDep, db: DbDep) -> Response:
    _switch(scheduler.resume, db, name)
    return render.redirect(f"/jobs/{name}")


def _switch(
    action: Callable[[store.Database, str, datetime], None], db: store.Database, name: str
) -> None:
    try:
        action(db, name, datetime.now(UTC))
    except errors.NotFound as exc:
        raise PageError(404, "Job not found", f"There is no job named {name}.") from exc
    except errors.Invalid as exc:
        raise PageError(400, "No schedule", exc.message) from exc
    except errors.Conflict as exc:
        raise PageError(409, "Not resumed", exc.message) from exc
