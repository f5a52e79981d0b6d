"""ScheduleSpec and cron parsing: what is accepted, and what a refusal says."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sparkjobs import jobs, schedules


def _error(**fields: object) -> tuple[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as caught:
        schedules.ScheduleSpec.model_validate(fields)
    first = caught.value.errors()[0]
    return first["loc"], first["msg"]


@pytest.mark.parametrize(
    ("fields", "loc", "says"),
    [
        ({"cron": "0 2 * *"}, "cron", "cron must have 5 fields (or 6 with seconds first), got 4"),
        ({"cron": "0 0 2 * * * *"}, "cron", "got 7"),
        ({"cron": ""}, "cron", "got 0"),
        ({"cron": "61 * * * *"}, "cron", "cron minute 61 is out of range 0-59"),
        ({"cron": "0 24 * * *"}, "cron", "cron hour 24 is out of range 0-23"),
        ({"cron": "60 0 2 * * *"}, "cron", "cron second 60 is out of range 0-59"),
        ({"cron": "0 0 0 * *"}, "cron", "cron day-of-month 0 is out of range 1-31"),
        ({"cron": "0 0 * 13 *"}, "cron", "cron month 13 is out of range 1-12"),
        ({"cron": "0 0 * * 8"}, "cron", "cron day-of-week 8 is out of range 0-7"),
        ({"cron": "0 0 * * MOO"}, "cron", "cron day-of-week 'MOO' is not valid"),
        ({"cron": "*/0 * * * *"}, "cron", "step in '*/0' must be at least 1"),
        ({"cron": "0 5-1 * * *"}, "cron", "range '5-1' must go from low to high"),
        ({"cron": "0 0 L * *"}, "cron", "Quartz's L, W or #"),
        ({"cron": "0 0 * * 5#3"}, "cron", "Quartz's L, W or #"),
        ({"cron": "? * * * *"}, "cron", "cron minute '?' is not valid"),
        ({"cron": "@reboot"}, "cron", "cron macro '@reboot' is not supported"),
        ({"cron": "0 0 30 2 *"}, "cron", "never fires"),
        ({"cron": "0 0 31 4,6 *"}, "cron", "never fires"),
        ({"cron": "0 2 * * *", "timezone": "Mars/Olympus"}, "timezone", "not a known IANA"),
        ({"cron": "0 2 * * *", "timezone": "../../etc/passwd"}, "timezone", "not a known IANA"),
        ({"cron": "0 2 * * *", "max_catch_up": -1}, "max_catch_up", "greater than or equal to 0"),
        (
            {"cron": "0 2 * * *", "starting_deadline_seconds": -5},
            "starting_deadline_seconds",
            ">= 0",
        ),
        ({"cron": "0 2 * * *", "concurrency_policy": "queue"}, "concurrency_policy", "'allow'"),
        ({"cron": "0 2 * * *", "missed_runs": "all"}, "missed_runs", "'catch_up'"),
        ({"cron": "0 2 * * *", "every": 5}, "every", "Extra inputs are not permitted"),
    ],
)
def test_bad_input_names_the_field_and_why(fields: dict[str, object], loc: str, says: str) -> None:
    where, message = _error(**fields)
    assert where == (loc,)
    if says == ">= 0":
        says = "greater than or equal to 0"
    assert says in message


def test_defaults_are_documented_ones() -> None:
    spec = schedules.ScheduleSpec(cron="0 2 * * *")
    assert spec.timezone == "UTC"
    assert spec.concurrency_policy == "allow"
    assert spec.missed_runs == "run_once"
    assert spec.max_catch_up == 10
    assert spec.starting_deadline_seconds is None
    assert spec.suspended is False


def test_issue_example_is_accepted_and_frozen() -> None:
    spec = schedules.ScheduleSpec.model_validate(
        {
            "cron": "0 2 * * *",
            "timezone": "Europe/Berlin",
            "concurrency_policy": "forbid",
            "missed_runs": "catch_up",
            "max_catch_up": 10,
            "starting_deadline_seconds": 300,
            "suspended": False,
        }
    )
    with pytest.raises(ValidationError):
        spec.cron = "1 2 * * *"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@DAILY", "0 0 * * *"),
        ("0 0 2 * * *", "0 2 * * *"),  # seconds first
        ("0 0 2 ? * *", "0 2 * * *"),  # Quartz '?' in a day field
        ("0 0 2 * * ?", "0 2 * * *"),
        ("0 0 * * 7", "0 0 * * 0"),  # 7 is Sunday too
        ("0 0 * * SUN", "0 0 * * 0"),
        ("0 0 * * mon-fri", "0 0 * * 1-5"),
        ("0 0 1 jan,JUL *", "0 0 1 1,7 *"),
        ("10/15 * * * *", "10,25,40,55 * * * *"),
        ("0-59/20 * * * *", "0,20,40 * * * *"),
    ],
)
def test_equivalent_spellings_parse_alike(text: str, same_as: str) -> None:
    a, b = schedules.parse(text), schedules.parse(same_as)
    assert (a.seconds, a.minutes, a.hours, a.days, a.months, a.weekdays) == (
        b.seconds,
        b.minutes,
        b.hours,
        b.days,
        b.months,
        b.weekdays,
    )


def test_seconds_field_is_kept() -> None:
    cron = schedules.parse("*/10 * * * * *")
    assert cron.seconds == (0, 10, 20, 30, 40, 50)
    assert schedules.parse("* * * * *").seconds == (0,)


def test_job_spec_carries_schedule_and_notify() -> None:
    spec = jobs.JobSpec.model_validate(
        {
            "name": "nightly",
            "source": {"type": "path", "path": "/opt/jobs/app.py"},
            "schedule": {"cron": "0 2 * * *", "timezone": "Europe/Berlin"},
            "notify": {"on_failure": [{"email": "ops@example.com"}]},
        }
    )
    assert spec.schedule is not None and spec.schedule.timezone == "Europe/Berlin"
    assert jobs.JobSpec.model_validate_json(spec.model_dump_json()) == spec


def test_job_spec_schedule_error_names_the_nested_field() -> None:
    with pytest.raises(ValidationError) as caught:
        jobs.JobSpec.model_validate(
            {
                "name": "nightly",
                "source": {"type": "path", "path": "/opt/jobs/app.py"},
                "schedule": {"cron": "61 * * * *"},
            }
        )
    first = caught.value.errors()[0]
    assert first["loc"] == ("schedule", "cron")
    assert "minute 61 is out of range 0-59" in first["msg"]
