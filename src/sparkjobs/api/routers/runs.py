"""/api/v1/jobs/{name}/runs and /api/v1/runs: start, watch, stop and repeat runs."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from sparkjobs import errors, runs, scheduler, store, supervisor
from sparkjobs.api import logs
from sparkjobs.api.deps import DbDep, SupervisorDep
from sparkjobs.api.schemas import EventOut, RunOut, RunPage, RunRequest
from sparkjobs.store import repo
from sparkjobs.supervisor import masking, specs

router = APIRouter(tags=["runs"])

TEXT = "text/plain; charset=utf-8"


def _out(sup: supervisor.Supervisor, run: runs.Run) -> RunOut:
    return RunOut.from_run(run, sup.effective_args(run), sup.redactor(run).mask)


def _given(sup: supervisor.Supervisor, body: RunRequest | None) -> dict[str, Any]:
    """The overrides the body sets, its env's secrets sealed."""
    if body is None:
        return {}
    given = body.given()
    if body.env is not None:
        given["env"] = specs.seal_override_env(sup.box, body.env)
    return given


def _get(db: store.Database, run_id: str) -> runs.Run:
    with db.session() as s:
        return repo.get_run(s, run_id)


@router.post("/jobs/{name}/runs", status_code=201)
def run_job(name: str, sup: SupervisorDep, db: DbDep, body: RunRequest | None = None) -> RunOut:
    """Queue a run of the job's current version, with optional overrides.

    On a scheduled job the run shows in the schedule's history as manual.
    """
    overrides = runs.RunOverrides(**_given(sup, body))
    run = sup.request_run(name, overrides)
    with contextlib.suppress(errors.NotFound):  # the job was deleted meanwhile
        scheduler.record_manual(db, name, run.id, datetime.now(UTC))
    return _out(sup, run)


@router.get("/runs")
def list_runs(
    sup: SupervisorDep,
    db: DbDep,
    job: str | None = None,
    state: Annotated[list[runs.RunState], Query(description="repeat for several")] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> RunPage:
    """Runs, newest first; follow next_cursor for older ones."""
    with db.session() as s:
        page, next_cursor = repo.list_runs(
            s, job=job, states=set(state) or None, limit=limit, cursor=cursor
        )
    return RunPage(items=[_out(sup, r) for r in page], next_cursor=next_cursor)


@router.get("/runs/{run_id}")
def get_run(run_id: str, sup: SupervisorDep, db: DbDep) -> RunOut:
    return _out(sup, _get(db, run_id))


@router.post("/runs/{run_id}/stop", status_code=202)
def stop_run(run_id: str, sup: SupervisorDep) -> RunOut:
    """Ask the run to stop (409 if it has ended); it ends 'stopped' shortly after."""
    return _out(sup, sup.request_stop(run_id))


@router.post("/runs/{run_id}/rerun", status_code=201)
def rerun(run_id: str, sup: SupervisorDep, db: DbDep, body: RunRequest | None = None) -> RunOut:
    """A new run of the same job version; the body's fields replace the original overrides."""
    overrides = None
    if body is not None:
        overrides = dataclasses.replace(_get(db, run_id).overrides, **_given(sup, body))
    return _out(sup, sup.rerun(run_id, overrides))


@router.get("/runs/{run_id}/events")
def run_events(run_id: str, sup: SupervisorDep, db: DbDep) -> list[EventOut]:
    """Every state change of the run, oldest first, with its reason (secrets masked)."""
    with db.session() as s:
        run = repo.get_run(s, run_id)
        events = repo.list_events(s, run_id)
    mask = sup.redactor(run).mask
    return [EventOut.from_event(e, mask) for e in events]


@router.get(
    "/runs/{run_id}/logs",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "the driver's output"}},
)
async def run_logs(
    request: Request,
    run_id: str,
    sup: SupervisorDep,
    db: DbDep,
    tail: Annotated[
        int | None, Query(ge=0, le=100_000, description="only the last N lines")
    ] = None,
    follow: Annotated[bool, Query(description="stream new output until the run ends")] = False,
) -> StreamingResponse:
    """The run's log (spark-submit's stdout and stderr), the run's secrets masked."""
    run = await run_in_threadpool(_get, db, run_id)
    redactor = await run_in_threadpool(sup.redactor, run)
    path = sup.log_path(run_id)
    if not follow:
        return StreamingResponse(
            masking.masked(logs.snapshot(path, tail), redactor), media_type=TEXT
        )

    async def finished() -> bool:
        if await request.is_disconnected():  # nobody is reading any more
            return True
        try:
            run = await run_in_threadpool(_get, db, run_id)
        except errors.RunNotFound:  # deleted with its job meanwhile: nothing more will come
            return True
        return run.state in runs.TERMINAL

    chunks = logs.blocking(logs.follow(path, tail, finished))
    return StreamingResponse(masking.masked(chunks, redactor), media_type=TEXT)
