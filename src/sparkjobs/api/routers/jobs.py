"""/api/v1/jobs: define, list, change and delete jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from sparkjobs import errors, jobs, store, supervisor
from sparkjobs.api.deps import DbDep, SettingsDep, SupervisorDep
from sparkjobs.api.routers import schedules as schedule_routes
from sparkjobs.api.schemas import JobOut, JobSpecOut, JobVersionOut
from sparkjobs.config import Settings
from sparkjobs.store import Session, repo
from sparkjobs.supervisor import specs

router = APIRouter(prefix="/jobs", tags=["jobs"])


def _now() -> datetime:
    return datetime.now(UTC)


def _out(s: Session, job: jobs.Job, next_runs: int = schedule_routes.NEXT_RUNS) -> JobOut:
    """The job as shown, with its schedule at a glance (next runs, suspended)."""
    return JobOut.from_job(job, schedule_routes.info(s, job, _now(), next_runs))


def _labels(raw: list[str]) -> dict[str, str] | None:
    pairs = [item.partition("=") for item in raw]
    if any(not sep or not key for key, sep, _ in pairs):
        raise errors.Invalid("label filters look like ?label=key=value", field="label")
    return {key: value for key, _, value in pairs} or None


@router.post("", status_code=201)
def create_job(spec: jobs.JobSpec, settings: SettingsDep, db: DbDep, sup: SupervisorDep) -> JobOut:
    """Define a new job (409 if the name is taken; PUT creates or updates)."""
    stored = specs.prepare_job_spec(settings, db, sup.box, spec, previous=None)
    with db.session() as s:
        return _out(s, repo.create_job(s, stored, _now()))


@router.get("")
def list_jobs(
    db: DbDep,
    name: Annotated[str | None, Query(description="only names containing this")] = None,
    label: Annotated[list[str], Query(description="key=value; repeat to require several")] = [],  # noqa: B006
) -> list[JobOut]:
    """Jobs by name; a scheduled one's schedule_info has its next run (GET one: the next 5)."""
    labels = _labels(label)
    with db.session() as s:
        found = repo.list_jobs(s, name_contains=name, labels=labels)
        return [_out(s, j, next_runs=1) for j in found]


@router.get("/{name}")
def get_job(name: str, db: DbDep) -> JobOut:
    with db.session() as s:
        return _out(s, repo.get_job(s, name))


def _current(db: store.Database, name: str) -> jobs.JobSpec | None:
    try:
        with db.session() as s:
            return repo.get_job(s, name).spec
    except errors.JobNotFound:
        return None


def _apply(
    settings: Settings, db: store.Database, sup: supervisor.Supervisor, spec: jobs.JobSpec
) -> tuple[jobs.Job, bool]:
    previous = _current(db, spec.name)
    stored = specs.prepare_job_spec(settings, db, sup.box, spec, previous=previous)
    with db.session() as s:
        if previous is None:
            return repo.create_job(s, stored, _now()), True
        return repo.update_job(s, stored, _now()), False


@router.put(
    "/{name}", status_code=200, responses={201: {"model": JobOut, "description": "created"}}
)
def put_job(
    name: str,
    spec: jobs.JobSpec,
    settings: SettingsDep,
    db: DbDep,
    sup: SupervisorDep,
    response: Response,
) -> JobOut:
    """Create the job or store a new version of it (unless the spec is unchanged).

    An env secret sent as `{"name": "X", "keep": true}` keeps the one stored.
    """
    if spec.name != name:
        raise errors.Invalid(
            f"the body's name '{spec.name}' differs from the URL's '{name}'; they must match",
            field="name",
        )
    job, created = _apply(settings, db, sup, spec)
    response.status_code = 201 if created else 200
    with db.session() as s:
        return _out(s, job)


@router.delete("/{name}", status_code=204)
def delete_job(name: str, sup: SupervisorDep) -> None:
    """Stop the job's active runs, then delete it with its versions and runs."""
    sup.delete_job(name)


@router.get("/{name}/versions/{version}")
def get_job_version(name: str, version: int, db: DbDep) -> JobVersionOut:
    with db.session() as s:
        spec = JobSpecOut.from_spec(repo.get_job_spec(s, name, version))
    return JobVersionOut(name=name, version=version, spec=spec)
