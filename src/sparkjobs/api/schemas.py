"""What the API takes in and hands out. Inputs are strict; outputs are built from domain records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from sparkjobs import jobs, runs


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class JobOut(_Out):
    name: str
    version: int
    created_at: datetime
    updated_at: datetime
    spec: jobs.JobSpec

    @classmethod
    def from_job(cls, job: jobs.Job) -> JobOut:
        return cls(
            name=job.name,
            version=job.version,
            created_at=job.created_at,
            updated_at=job.updated_at,
            spec=job.spec,
        )


class JobVersionOut(_Out):
    name: str
    version: int
    spec: jobs.JobSpec


class RunRequest(_In):
    """Overrides for one run; a field left out keeps the job's (or, for a rerun, the run's)."""

    args: list[StrictStr] | None = Field(default=None, description="replaces the job's args")
    conf: dict[StrictStr, StrictStr] | None = Field(
        default=None, description="Spark conf for this run only, merged over the job's"
    )

    @field_validator("conf")
    @classmethod
    def _conf_keys(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            if not jobs.CONF_KEY.match(key):
                raise ValueError(f"conf key '{key}' must start with 'spark.'")
        return value

    def given(self) -> dict[str, Any]:
        """The fields the caller set, for merging over other overrides."""
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if v is not None}


class RunOut(_Out):
    id: str
    job: str
    job_version: int
    state: runs.RunState
    trigger: runs.Trigger
    attempt: int
    exit_code: int | None
    reason: str | None
    spark_app_id: str | None
    spark_ui_url: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    args: list[str] = Field(description="the args the run uses (its override or the job's)")
    conf: dict[str, str] | None = Field(description="the run's conf override, if any")
    parent_id: str | None
    scheduled_for: datetime | None

    @classmethod
    def from_run(cls, run: runs.Run, args: list[str]) -> RunOut:
        return cls(
            id=run.id,
            job=run.job,
            job_version=run.job_version,
            state=run.state,
            trigger=run.trigger,
            attempt=run.attempt,
            exit_code=run.exit_code,
            reason=run.reason,
            spark_app_id=run.spark_app_id,
            spark_ui_url=run.spark_ui_url,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            args=args,
            conf=run.overrides.conf,
            parent_id=run.parent_id,
            scheduled_for=run.scheduled_for,
        )


class RunPage(_Out):
    items: list[RunOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page")


class EventOut(_Out):
    at: datetime
    from_state: runs.RunState | None
    to_state: runs.RunState
    reason: str

    @classmethod
    def from_event(cls, event: runs.RunEvent) -> EventOut:
        return cls(
            at=event.at, from_state=event.from_state, to_state=event.to_state, reason=event.reason
        )


class ArtifactOut(_Out):
    id: str
    filename: str
    sha256: str
    size: int
    created_at: datetime

    @classmethod
    def from_artifact(cls, artifact: jobs.Artifact) -> ArtifactOut:
        return cls(
            id=artifact.id,
            filename=artifact.filename,
            sha256=artifact.sha256,
            size=artifact.size,
            created_at=artifact.created_at,
        )


class Status(_Out):
    status: str
