"""What the API takes in and hands out. Inputs are strict; outputs are built from domain records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from sparkjobs import envvars, jobs, runs, schedules


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class JobSpecOut(jobs.JobSpec):
    """A stored spec as it is shown: a secret shows that it is set, never its value."""

    env: list[envvars.EnvVarOut] = Field(default_factory=list)  # type: ignore[assignment]

    @classmethod
    def from_spec(cls, spec: jobs.JobSpec) -> JobSpecOut:
        shown = spec.model_dump(mode="json", exclude={"env"})
        return cls.model_validate({**shown, "env": envvars.masked(spec.env)})


class NextRun(_Out):
    at: datetime = Field(description="the slot in UTC")
    local: datetime = Field(description="the same slot in the schedule's time zone")


class ScheduleInfo(_Out):
    """A scheduled job's schedule at a glance (the full view: GET .../schedule)."""

    description: str = Field(description="the schedule in words")
    suspended: bool = Field(description="by the spec's `suspended` or by a suspend request")
    next_runs: list[NextRun] = Field(
        description="the next 5 slots; in a list of jobs the next one; none while suspended"
    )


class JobOut(_Out):
    name: str
    version: int
    created_at: datetime
    updated_at: datetime
    spec: JobSpecOut
    schedule_info: ScheduleInfo | None = Field(
        default=None, description="for a job with a schedule; null otherwise"
    )

    @classmethod
    def from_job(cls, job: jobs.Job, schedule_info: ScheduleInfo | None = None) -> JobOut:
        return cls(
            name=job.name,
            version=job.version,
            created_at=job.created_at,
            updated_at=job.updated_at,
            spec=JobSpecOut.from_spec(job.spec),
            schedule_info=schedule_info,
        )


class JobVersionOut(_Out):
    name: str
    version: int
    spec: JobSpecOut


class RunRequest(_In):
    """Overrides for one run; a field left out keeps the job's (or, for a rerun, the run's)."""

    args: list[StrictStr] | None = Field(default=None, description="replaces the job's args")
    conf: dict[StrictStr, StrictStr] | None = Field(
        default=None, description="Spark conf for this run only, merged over the job's"
    )
    env: list[envvars.EnvVar] | None = Field(
        default=None,
        max_length=500,
        description="variables for this run only, over the job's and its bindings'",
    )

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: list[envvars.EnvVar] | None) -> list[envvars.EnvVar] | None:
        envvars.check_unique(value or [])
        return value

    @field_validator("conf")
    @classmethod
    def _conf_keys(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            if not jobs.CONF_KEY.match(key):
                raise ValueError(f"conf key '{key}' must start with 'spark.'")
        return value

    def given(self) -> dict[str, Any]:
        """The fields the caller set but env (sealed by the caller), for merging over others."""
        given = self.model_dump(exclude_unset=True, exclude={"env"})
        return {k: v for k, v in given.items() if v is not None}


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
    env: list[envvars.EnvVarOut] | None = Field(
        default=None, description="the run's env override, if any (secrets show as set)"
    )
    parent_id: str | None
    scheduled_for: datetime | None

    @classmethod
    def from_run(cls, run: runs.Run, args: list[str], mask: Callable[[str], str] = str) -> RunOut:
        """`mask` hides the run's secrets in its reason."""
        env = run.overrides.env
        return cls(
            id=run.id,
            job=run.job,
            job_version=run.job_version,
            state=run.state,
            trigger=run.trigger,
            attempt=run.attempt,
            exit_code=run.exit_code,
            reason=None if run.reason is None else mask(run.reason),
            spark_app_id=run.spark_app_id,
            spark_ui_url=run.spark_ui_url,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            args=args,
            conf=run.overrides.conf,
            env=None if env is None else envvars.masked(map(envvars.EnvVar.model_validate, env)),
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
    def from_event(cls, event: runs.RunEvent, mask: Callable[[str], str] = str) -> EventOut:
        """`mask` hides the run's secrets in the reason."""
        return cls(
            at=event.at,
            from_state=event.from_state,
            to_state=event.to_state,
            reason=mask(event.reason),
        )


class HistoryOut(_Out):
    kind: str = Field(description="fired, skipped, manual, suspended or resumed")
    first: datetime = Field(description="the (first) slot, or when it happened")
    last: datetime = Field(description="the last slot of a skipped range")
    count: int | None = Field(description="how many slots a skipped range holds")
    run_id: str | None
    reason: str
    at: datetime = Field(description="when it was recorded")


class ScheduleOut(_Out):
    """A job's schedule with its history, newest first."""

    job: str
    schedule: schedules.ScheduleSpec | None
    description: str | None
    suspended: bool
    next_runs: list[NextRun]
    decided_through: datetime | None = Field(description="the last slot the scheduler decided")
    history: list[HistoryOut]


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


class BindingOut(_Out):
    """A binding as it is shown: its secrets show as set, never their values."""

    name: str
    description: str
    env: list[envvars.EnvVarOut]
    service: envvars.ServiceRef | None
    secret_ref: envvars.ObjectRef | None
    config_map_ref: envvars.ObjectRef | None

    @classmethod
    def from_binding(cls, binding: envvars.Binding) -> BindingOut:
        return cls(
            name=binding.name,
            description=binding.description,
            env=envvars.masked(binding.env),
            service=binding.service,
            secret_ref=binding.secret_ref,
            config_map_ref=binding.config_map_ref,
        )
