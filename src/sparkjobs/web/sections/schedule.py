"""When the job runs by itself: cron, time zone, the policies, and the live preview.

Cron left empty means no schedule. The preview (the cron in words and the next
five times) is drawn on the page and again, as the cron or time zone is typed,
by the fragment endpoint in pages_schedule.py; both call preview() here.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pydantic

from sparkjobs import jobs, schedules
from sparkjobs.web.forms import Errors, JobForm, Section, Values
from sparkjobs.web.sections.text import present, seconds, text_of, whole

CRON = "schedule_cron"
TIMEZONE = "schedule_timezone"
CONCURRENCY = "schedule_concurrency"
MISSED = "schedule_missed"
MAX_CATCH_UP = "schedule_max_catch_up"
DEADLINE = "schedule_deadline"
SUSPENDED = "schedule_suspended"
PREVIEW_COUNT = 5

CONCURRENCY_POLICIES: tuple[tuple[str, str], ...] = (
    ("allow", "Allow: start it even while a run is active"),
    ("forbid", "Forbid: skip the slot while a run is active"),
    ("replace", "Replace: stop the active run, start the new one"),
)
MISSED_RUNS: tuple[tuple[str, str], ...] = (
    ("run_once", "Run once: one run for the latest missed slot"),
    ("catch_up", "Catch up: one run per missed slot, oldest first"),
    ("skip", "Skip: fire none of them"),
)
#: For the Time zone field's suggestions; "UTC" first, the rest sorted.
ZONES: tuple[str, ...] = ("UTC", *sorted(zoneinfo.available_timezones() - {"UTC"}))
DEFAULTS: dict[str, str] = {
    TIMEZONE: "UTC",
    CONCURRENCY: "allow",
    MISSED: "run_once",
    MAX_CATCH_UP: "10",
}
_FIELD_NAMES = {"cron": "Cron", "timezone": "Time zone"}


@dataclass(frozen=True)
class NextRun:
    """One upcoming slot: the instant (UTC) and the wall clock in the schedule's zone."""

    utc: datetime
    local: datetime

    @property
    def local_text(self) -> str:
        """'Sat 2026-11-28 02:00 CET'."""
        return f"{self.local:%a} {_clock(self.local)} {self.local.tzname()}"

    @property
    def utc_text(self) -> str:
        """'2026-11-28 01:00 UTC'."""
        return f"{_clock(self.utc.astimezone(UTC))} UTC"


def _clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Preview:
    """What the form shows under Cron: the words and next times, or why it cannot."""

    cron: str
    description: str | None = None
    times: tuple[NextRun, ...] = ()
    error: str | None = None


def preview(cron: str, timezone: str, now: datetime) -> Preview:
    """The cron and time zone as typed, in words with the next times, or the first error."""
    cron = cron.strip()
    if not cron:
        return Preview(cron="")
    try:
        spec = schedules.ScheduleSpec(cron=cron, timezone=timezone.strip() or "UTC")
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        name = _FIELD_NAMES.get(str(first["loc"][0]), "Schedule")
        return Preview(cron=cron, error=f"{name}: {first['msg'].removeprefix('Value error, ')}")
    upcoming = schedules.next_runs(spec, now, PREVIEW_COUNT)
    times = tuple(NextRun(utc, local) for utc, local in upcoming)
    return Preview(cron=cron, description=schedules.describe(spec), times=times)


def form_preview(form: JobForm) -> Preview:
    """The preview the form page starts with; empty when saving put an error by the fields."""
    if CRON in form.errors or TIMEZONE in form.errors:
        return Preview(cron=form.get(CRON).strip())
    return preview(form.get(CRON), form.get(TIMEZONE), datetime.now(UTC))


def parse_schedule(v: Values, errs: Errors) -> dict[str, Any]:
    cron = v.get(CRON, "").strip()
    if not cron:
        return {"schedule": None}
    return {
        "schedule": present(
            cron=cron,
            timezone=v.get(TIMEZONE, "").strip() or "UTC",
            concurrency_policy=v.get(CONCURRENCY) or None,
            missed_runs=v.get(MISSED) or None,
            max_catch_up=whole(v, MAX_CATCH_UP, errs),
            starting_deadline_seconds=seconds(v, DEADLINE, errs),
            suspended=v.get(SUSPENDED) == "on",
        )
    }


def prefill_schedule(spec: jobs.JobSpec) -> Values:
    s = spec.schedule
    if s is None:
        return dict(DEFAULTS)
    values = {
        CRON: s.cron,
        TIMEZONE: s.timezone,
        CONCURRENCY: s.concurrency_policy,
        MISSED: s.missed_runs,
        MAX_CATCH_UP: str(s.max_catch_up),
        DEADLINE: text_of(s.starting_deadline_seconds),
    }
    return values | ({SUSPENDED: "on"} if s.suspended else {})


SECTION = Section(
    key="schedule",
    title="Schedule",
    template="jobs/form/schedule.html",
    inputs=(CRON, TIMEZONE, CONCURRENCY, MISSED, MAX_CATCH_UP, DEADLINE, SUSPENDED),
    parse=parse_schedule,
    prefill=prefill_schedule,
    paths={
        "schedule": CRON,
        "schedule.cron": CRON,
        "schedule.timezone": TIMEZONE,
        "schedule.concurrency_policy": CONCURRENCY,
        "schedule.missed_runs": MISSED,
        "schedule.max_catch_up": MAX_CATCH_UP,
        "schedule.starting_deadline_seconds": DEADLINE,
        "schedule.suspended": SUSPENDED,
    },
    defaults=DEFAULTS,
    options={
        "zones": ZONES,
        "concurrency_policies": CONCURRENCY_POLICIES,
        "missed_runs": MISSED_RUNS,
        "preview": form_preview,
    },
)
