"""ScheduleSpec: when a job runs by itself, validated once and frozen."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sparkjobs.schedules import cron as cron_module
from sparkjobs.schedules import zones

ConcurrencyPolicy = Literal["allow", "forbid", "replace"]
MissedRuns = Literal["skip", "run_once", "catch_up"]


class ScheduleSpec(BaseModel):
    """A job's schedule.

    concurrency_policy defaults to "allow", as a Kubernetes CronJob does: a slot
    starts a run even if the previous one is still going. "forbid" skips the slot
    instead (recorded with the reason); "replace" stops the active run first.
    missed_runs decides what happens to slots that passed while no server fired
    them (a server was down, or the schedule was suspended): "skip" none,
    "run_once" one run for the latest (the default), "catch_up" each in order, at
    most max_catch_up of them (the latest ones). Slots older than
    starting_deadline_seconds never fire; None means no deadline.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cron: str = Field(
        max_length=200,
        description="5 fields, 6 with seconds first, or @hourly/@daily/@weekly/@monthly/@yearly",
    )
    timezone: str = Field(default="UTC", max_length=64, description="IANA name, e.g. Europe/Berlin")
    concurrency_policy: ConcurrencyPolicy = "allow"
    missed_runs: MissedRuns = "run_once"
    max_catch_up: int = Field(default=10, ge=0, le=1000)
    starting_deadline_seconds: int | None = Field(default=None, ge=0, le=366 * 86400)
    suspended: bool = False

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        cron_module.parse(value)  # raises ValueError naming the cron field
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        zones.zone(value)
        return value

    @property
    def parsed(self) -> cron_module.Cron:
        return cron_module.parse(self.cron)
