"""Jobs and their versions. Each change of a spec is a new version; runs name theirs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sparkjobs import errors, jobs
from sparkjobs.store._convert import rowcount, spec_json, to_job
from sparkjobs.store.tables import JobRow, JobVersionRow

#: Spec fields that hold lists of files; an entry may name an artifact.
FILE_LISTS = ("files", "py_files", "jars")


def job_not_found(name: str) -> errors.JobNotFound:
    return errors.JobNotFound(f"job '{name}' not found; list jobs with 'sparkjobs jobs list'")


def create_job(s: Session, spec: jobs.JobSpec, now: datetime) -> jobs.Job:
    """Store a new job as version 1. Raises JobExists when the name is taken."""
    if s.get(JobRow, spec.name) is not None:
        raise _exists(spec.name)
    s.add(JobRow(name=spec.name, current_version=1, created_at=now, updated_at=now))
    try:
        s.flush()  # before the version, whose row needs it
    except IntegrityError as exc:  # created by someone else since the check
        raise _exists(spec.name) from exc
    s.add(JobVersionRow(job_name=spec.name, version=1, spec=spec_json(spec), created_at=now))
    s.flush()
    return jobs.Job(name=spec.name, version=1, spec=spec, created_at=now, updated_at=now)


def update_job(s: Session, spec: jobs.JobSpec, now: datetime) -> jobs.Job:
    """Store spec as the job's next version, unless it equals the current one (then a no-op)."""
    job = get_job(s, spec.name)
    if spec_json(job.spec) == spec_json(spec):
        return job
    version = job.version + 1
    moved = s.execute(
        update(JobRow)
        .where(JobRow.name == spec.name, JobRow.current_version == job.version)
        .values(current_version=version, updated_at=now)
    )
    if rowcount(moved) != 1:
        raise errors.Conflict(f"job '{spec.name}' was changed meanwhile; apply your spec again")
    s.add(JobVersionRow(job_name=spec.name, version=version, spec=spec_json(spec), created_at=now))
    s.flush()
    return dataclasses.replace(job, version=version, spec=spec, updated_at=now)


def get_job(s: Session, name: str) -> jobs.Job:
    row = s.execute(_current().where(JobRow.name == name)).one_or_none()
    if row is None:
        raise job_not_found(name)
    return to_job(row[0], row[1])


def get_job_spec(s: Session, name: str, version: int) -> jobs.JobSpec:
    """The spec of one version of a job (runs keep the version they were made from)."""
    return jobs.JobSpec.model_validate(version_row(s, name, version).spec)


def version_row(s: Session, name: str, version: int) -> JobVersionRow:
    row = s.get(JobVersionRow, (name, version))
    if row is not None:
        return row
    current = s.get(JobRow, name)
    if current is None:
        raise job_not_found(name)
    raise errors.JobNotFound(
        f"job '{name}' has no version {version}; its versions are 1 to {current.current_version}"
    )


def list_jobs(
    s: Session, *, name_contains: str | None = None, labels: dict[str, str] | None = None
) -> list[jobs.Job]:
    """Jobs ordered by name; with labels, only jobs that carry every given pair."""
    query = _current().order_by(JobRow.name)
    if name_contains:
        query = query.where(JobRow.name.contains(name_contains.lower(), autoescape=True))
    found = [to_job(job, spec) for job, spec in s.execute(query)]
    wanted = (labels or {}).items()
    return [job for job in found if all(job.spec.labels.get(k) == v for k, v in wanted)]


def delete_job(s: Session, name: str) -> None:
    """Delete a job with its versions, runs and their events."""
    if rowcount(s.execute(delete(JobRow).where(JobRow.name == name))) == 0:
        raise job_not_found(name)


def artifact_users(s: Session, artifact_id: str) -> list[tuple[str, int]]:
    """(job, version) pairs, of any version, whose source or file lists name the artifact."""
    rows = s.execute(
        select(JobVersionRow.job_name, JobVersionRow.version, JobVersionRow.spec).order_by(
            JobVersionRow.job_name, JobVersionRow.version
        )
    )
    return [(name, version) for name, version, spec in rows if uses_artifact(spec, artifact_id)]


def uses_artifact(spec: dict[str, Any], artifact_id: str) -> bool:
    """Whether a stored spec (JSON) names the artifact as its source or in a file list."""
    return any(
        isinstance(ref, dict) and ref.get("type") == "artifact" and ref.get("id") == artifact_id
        for ref in _references(spec)
    )


def _references(spec: dict[str, Any]) -> Iterator[Any]:
    yield spec.get("source")
    for key in FILE_LISTS:
        entries = spec.get(key)
        for entry in entries if isinstance(entries, list) else []:
            yield entry
            if isinstance(entry, dict):
                yield entry.get("source")


def _current() -> Select[JobRow, dict[str, Any]]:
    return select(JobRow, JobVersionRow.spec).join(
        JobVersionRow,
        and_(
            JobVersionRow.job_name == JobRow.name, JobVersionRow.version == JobRow.current_version
        ),
    )


def _exists(name: str) -> errors.JobExists:
    return errors.JobExists(
        f"job '{name}' exists already; update that job instead, or choose another name"
    )
