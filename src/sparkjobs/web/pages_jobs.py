"""The jobs list and a job's page, with its Run and Delete buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from sparkjobs import errors, jobs, redact, runs, scheduler, store
from sparkjobs.store import repo
from sparkjobs.web import pages_schedule, render
from sparkjobs.web.deps import DbDep, FormDep, PageError, SettingsDep, SupervisorDep, VisitorDep
from sparkjobs.web.sections.text import lines

router = APIRouter()
RUNS_PER_PAGE = 20
#: The delete page counts a job's runs up to this many.
COUNT_LIMIT = 1000


@dataclass(frozen=True)
class Row:
    job: jobs.Job
    source: str
    last: runs.Run | None
    schedule: pages_schedule.ScheduleCell | None = None


def source_text(source: jobs.Source, names: dict[str, str]) -> str:
    """'upload wordcount.py', 'path /srv/jobs/etl.py', 'url https://...', 'git REPO@REF'."""
    if isinstance(source, jobs.ArtifactSource):
        return f"upload {names.get(source.id, source.id)}"
    if isinstance(source, jobs.PathSource):
        return f"path {source.path}"
    if isinstance(source, jobs.UrlSource):
        return f"url {redact.mask_url_passwords(source.url)}"
    repo_url = redact.mask_url_passwords(source.repo)
    return f"git {repo_url} @ {source.ref}: {source.target}"


def _filenames(s: store.Session) -> dict[str, str]:
    return {a.id: a.filename for a in repo.list_artifacts(s)}


def _label_filter(text: str) -> tuple[dict[str, str] | None, str | None]:
    """The label filter as a dict, or an error to show beside it."""
    if not text.strip():
        return None, None
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        return None, "write the label as key=value"
    return {key.strip(): value.strip()}, None


@router.get("/", include_in_schema=False)
def home(_: VisitorDep) -> Response:
    return render.redirect("/jobs")


@router.get("/jobs", response_class=HTMLResponse)
def jobs_list(
    request: Request,
    visitor: VisitorDep,
    db: DbDep,
    q: str = "",
    label: str = "",
    deleted: str = "",
) -> Response:
    labels, label_error = _label_filter(label)
    rows: list[Row] = []
    now = datetime.now(UTC)
    if label_error is None:
        with db.session() as s:
            names = _filenames(s)
            for job in repo.list_jobs(s, name_contains=q.strip() or None, labels=labels):
                last, _ = repo.list_runs(s, job=job.name, limit=1)
                source = source_text(job.spec.source, names)
                cell = pages_schedule.list_cell(s, job, now)
                rows.append(Row(job, source, last[0] if last else None, cell))
    context = {"visitor": visitor, "rows": rows, "q": q, "label": label, "section": "jobs"}
    context.update(
        label_error=label_error, deleted=deleted if jobs.DNS_LABEL.match(deleted) else ""
    )
    return render.page(request, "jobs/list.html", context)


def _job_context(db: store.Database, name: str, cursor: str | None) -> dict[str, Any]:
    try:
        with db.session() as s:
            job = repo.get_job(s, name)
            page, next_cursor = repo.list_runs(s, job=name, limit=RUNS_PER_PAGE, cursor=cursor)
            source = source_text(job.spec.source, _filenames(s))
    except errors.NotFound as exc:
        raise PageError(404, "Job not found", f"There is no job named {name}.") from exc
    except errors.Invalid as exc:  # a cursor someone edited
        raise PageError(400, "Bad page link", exc.message) from exc
    return {"job": job, "runs": page, "next_cursor": next_cursor, "source": source}


@router.get("/jobs/{name}", response_class=HTMLResponse)
def job_page(
    request: Request,
    name: str,
    visitor: VisitorDep,
    db: DbDep,
    settings: SettingsDep,
    cursor: str | None = None,
) -> Response:
    context = _job_context(db, name, cursor)
    context.update(visitor=visitor, default_master=settings.default_master, section="jobs")
    try:
        context["schedule"] = pages_schedule.job_schedule(db, context["job"], datetime.now(UTC))
    except errors.NotFound as exc:  # deleted meanwhile
        raise PageError(404, "Job not found", f"There is no job named {name}.") from exc
    context["alerts"] = pages_schedule.alert_summary(context["job"].spec)
    return render.page(request, "jobs/show.html", context)


@router.post("/jobs/{name}/run")
def run_job(name: str, posted: FormDep, sup: SupervisorDep, db: DbDep) -> Response:
    """Run now; with 'with_args', the typed arguments replace the job's for this run.

    On a scheduled job the run is also recorded in the schedule's history as manual.
    """
    args = posted.get("args")
    custom = posted.get("with_args") and isinstance(args, str)
    overrides = runs.RunOverrides(args=lines(str(args).replace("\r\n", "\n")) if custom else None)
    try:
        run = sup.request_run(name, overrides)
        scheduler.record_manual(db, name, run.id, datetime.now(UTC))
    except errors.NotFound as exc:
        raise PageError(404, "Job not found", f"There is no job named {name}.") from exc
    return render.redirect(f"/runs/{run.id}")


@router.get("/jobs/{name}/delete", response_class=HTMLResponse)
def confirm_delete(request: Request, name: str, visitor: VisitorDep, db: DbDep) -> Response:
    try:
        with db.session() as s:
            job = repo.get_job(s, name)
            active, _ = repo.list_runs(s, job=name, states=runs.ACTIVE, limit=COUNT_LIMIT)
            every, more = repo.list_runs(s, job=name, limit=COUNT_LIMIT)
    except errors.NotFound as exc:
        raise PageError(404, "Job not found", f"There is no job named {name}.") from exc
    count = f"{'more than ' if more else ''}{len(every)}"
    runs_text = f"{count} run{'' if len(every) == 1 and not more else 's'}"
    context = {"visitor": visitor, "job": job, "active": active, "runs_text": runs_text}
    context["section"] = "jobs"
    return render.page(request, "jobs/delete.html", context)


@router.post("/jobs/{name}/delete")
def delete_job(name: str, _: FormDep, sup: SupervisorDep) -> Response:
    try:
        sup.delete_job(name)
    except errors.NotFound as exc:
        raise PageError(404, "Job not found", f"There is no job named {name}.") from exc
    except errors.Conflict as exc:
        raise PageError(409, "Not deleted yet", exc.message) from exc
    return render.redirect(f"/jobs?deleted={quote(name)}")
