"""Rows to domain objects and back: the only place that knows both shapes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import CursorResult

from sparkjobs import jobs, runs
from sparkjobs.store.tables import ArtifactRow, JobRow, RunEventRow, RunRow

#: Run fields a caller may change besides the state.
RUN_FIELDS = frozenset(
    {
        "exit_code",
        "reason",
        "spark_app_id",
        "spark_ui_url",
        "started_at",
        "finished_at",
        "handle",
        "owner",
        "not_before",
    }
)


def check_run_fields(fields: dict[str, Any], caller: str) -> None:
    unknown = sorted(set(fields) - RUN_FIELDS)
    if unknown:
        raise TypeError(
            f"{caller}() cannot set run field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(RUN_FIELDS))}"
        )


def rowcount(result: object) -> int:
    """Rows an UPDATE/DELETE/INSERT touched (Session.execute is typed as returning rows)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"expected the result of a DML statement, got {type(result).__name__}")
    return int(result.rowcount)


def spec_json(spec: jobs.JobSpec) -> dict[str, Any]:
    return spec.model_dump(mode="json")


def to_job(row: JobRow, spec: dict[str, Any]) -> jobs.Job:
    return jobs.Job(
        name=row.name,
        version=row.current_version,
        spec=jobs.JobSpec.model_validate(spec),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def run_row(run: runs.Run) -> RunRow:
    return RunRow(
        id=run.id,
        job_name=run.job,
        job_version=run.job_version,
        state=run.state.value,
        trigger=run.trigger.value,
        attempt=run.attempt,
        overrides=run.overrides.as_dict(),
        exit_code=run.exit_code,
        reason=run.reason,
        spark_app_id=run.spark_app_id,
        spark_ui_url=run.spark_ui_url,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        not_before=run.not_before,
        parent_id=run.parent_id,
        scheduled_for=run.scheduled_for,
        backend=run.backend,
        handle=run.handle,
        owner=run.owner,
    )


def to_run(row: RunRow) -> runs.Run:
    return runs.Run(
        id=row.id,
        job=row.job_name,
        job_version=row.job_version,
        state=runs.RunState(row.state),
        trigger=runs.Trigger(row.trigger),
        attempt=row.attempt,
        overrides=runs.RunOverrides(**row.overrides),
        exit_code=row.exit_code,
        reason=row.reason,
        spark_app_id=row.spark_app_id,
        spark_ui_url=row.spark_ui_url,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        not_before=row.not_before,
        parent_id=row.parent_id,
        scheduled_for=row.scheduled_for,
        backend=row.backend,
        handle=row.handle,
        owner=row.owner,
    )


def to_event(row: RunEventRow) -> runs.RunEvent:
    return runs.RunEvent(
        run_id=row.run_id,
        at=row.at,
        from_state=runs.RunState(row.from_state) if row.from_state else None,
        to_state=runs.RunState(row.to_state),
        reason=row.reason,
    )


def artifact_row(artifact: jobs.Artifact) -> ArtifactRow:
    return ArtifactRow(
        id=artifact.id,
        filename=artifact.filename,
        sha256=artifact.sha256,
        size=artifact.size,
        created_at=artifact.created_at,
    )


def to_artifact(row: ArtifactRow) -> jobs.Artifact:
    return jobs.Artifact(
        id=row.id,
        filename=row.filename,
        sha256=row.sha256,
        size=row.size,
        created_at=row.created_at,
    )
