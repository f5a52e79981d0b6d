"""The run page and its live parts: status and log fragments that htmx polls while active.

A fragment that has nothing new answers 204, which htmx leaves alone: the page
does not flicker, and a focused button keeps its focus.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse

from sparkjobs import errors, runs
from sparkjobs.store import repo
from sparkjobs.supervisor import masking
from sparkjobs.web import logtext, render
from sparkjobs.web.deps import DbDep, FormDep, PageError, SupervisorDep, VisitorDep

router = APIRouter()


def _not_found(run_id: str) -> PageError:
    return PageError(404, "Run not found", f"There is no run {run_id}; it may have been deleted.")


def _status_context(sup: SupervisorDep, db: DbDep, run_id: str) -> dict[str, Any]:
    try:
        with db.session() as s:
            run = repo.get_run(s, run_id)
            events = repo.list_events(s, run_id)
        args = sup.effective_args(run)
    except errors.NotFound as exc:
        raise _not_found(run_id) from exc
    mask = sup.redactor(run).mask  # a run's secrets never reach the page
    run = dataclasses.replace(run, reason=None if run.reason is None else mask(run.reason))
    events = [dataclasses.replace(e, reason=mask(e.reason)) for e in events]
    return {
        "run": run,
        "events": events,
        "args": args,
        "seen": _fingerprint(run, len(events)),
        "stoppable": runs.ACTIVE - {runs.RunState.STOPPING},
    }


def _fingerprint(run: runs.Run, events: int) -> str:
    """Changes whenever what the status fragment shows changes."""
    shown = (run.state, run.reason, run.exit_code, run.spark_app_id, run.spark_ui_url, events)
    return hashlib.sha256(repr(shown).encode()).hexdigest()[:16]


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, run_id: str, visitor: VisitorDep, sup: SupervisorDep, db: DbDep
) -> Response:
    context = _status_context(sup, db, run_id)
    run: runs.Run = context["run"]
    mask = sup.redactor(run).mask
    log = logtext.first_view(sup.log_path(run_id), final=not run.active, mask=mask)
    context.update(visitor=visitor, log=log, offset=log.offset, following=run.active, more=False)
    context["section"] = "jobs"
    return render.page(request, "runs/show.html", context)


@router.get("/runs/{run_id}/status", response_class=HTMLResponse)
def run_status(
    request: Request,
    run_id: str,
    visitor: VisitorDep,
    sup: SupervisorDep,
    db: DbDep,
    seen: str = "",
) -> Response:
    context = _status_context(sup, db, run_id)
    if seen and context["seen"] == seen:
        return Response(status_code=204)
    context.update(visitor=visitor)
    return render.page(request, "runs/status.html", context)


@router.get("/runs/{run_id}/log", response_class=HTMLResponse)
def run_log(
    request: Request, run_id: str, _: VisitorDep, sup: SupervisorDep, db: DbDep, offset: int = 0
) -> Response:
    """The log text after `offset`, appended by htmx, and the poller for what comes next."""
    try:
        with db.session() as s:
            # The state first: bytes written before the run ended are read below.
            run = repo.get_run(s, run_id)
    except errors.NotFound as exc:
        raise _not_found(run_id) from exc
    final = run.state in runs.TERMINAL
    path = sup.log_path(run_id)
    mask = sup.redactor(run).mask
    chunk, end = logtext.since(path, max(offset, 0), final=final, mask=mask)
    more = end < logtext.size(path)
    if not chunk and not final:
        return Response(status_code=204)
    context = {"run": {"id": run_id}, "chunk": chunk, "offset": end, "more": more}
    context["following"] = more or not final
    return render.page(request, "runs/log_poll.html", context)


@router.get("/runs/{run_id}/log.txt", response_model=None)
def run_log_text(run_id: str, _: VisitorDep, sup: SupervisorDep, db: DbDep) -> Response:
    try:
        with db.session() as s:
            run = repo.get_run(s, run_id)  # a known id, not a path someone made up
    except errors.NotFound as exc:
        raise _not_found(run_id) from exc
    path = sup.log_path(run_id)
    if not path.is_file():
        return PlainTextResponse("", headers=render.SECURITY_HEADERS)
    text = masking.masked(logtext.chunks(path), sup.redactor(run))
    return StreamingResponse(
        text, media_type="text/plain; charset=utf-8", headers=render.SECURITY_HEADERS
    )


@router.post("/runs/{run_id}/stop")
def stop_run(run_id: str, _: FormDep, sup: SupervisorDep) -> Response:
    try:
        sup.request_stop(run_id)
    except errors.NotFound as exc:
        raise _not_found(run_id) from exc
    except errors.Conflict:
        pass  # it ended meanwhile: the page shows how
    return render.redirect(f"/runs/{run_id}")


@router.post("/runs/{run_id}/rerun")
def rerun(run_id: str, _: FormDep, sup: SupervisorDep) -> Response:
    try:
        run = sup.rerun(run_id, None)
    except errors.NotFound as exc:
        raise _not_found(run_id) from exc
    return render.redirect(f"/runs/{run.id}")
