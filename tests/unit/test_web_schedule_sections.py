"""The job form's Schedule and Alerts sections: typed text in, spec parts out, errors at the
field they concern; the live preview of a cron; what the job page shows of them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sparkjobs import alerts, jobs, schedules
from sparkjobs.web import forms, pages_schedule
from sparkjobs.web.sections import SECTIONS, schedule
from sparkjobs.web.sections import alerts as alert_section

#: A Friday in November: Berlin is on CET (UTC+1).
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
BASE = {"name": "nightly", "source_type": "path", "source_path": "/srv/jobs/etl.py"}


def submit(**typed: str) -> tuple[jobs.JobSpec | None, forms.JobForm]:
    """The whole form as a browser sends it: defaults, the basics, and what was typed."""
    form = forms.blank(SECTIONS)
    form.values.update(BASE)
    form.values.update(typed)
    return forms.to_spec(SECTIONS, form), form


# -- schedule --------------------------------------------------------------------------------


def test_an_empty_cron_means_no_schedule_whatever_else_is_set() -> None:
    spec, form = submit(schedule_cron="  ", schedule_timezone="Nowhere/Else")
    assert not form.errors
    assert spec is not None and spec.schedule is None


def test_a_full_schedule_is_read_from_the_fields() -> None:
    spec, form = submit(
        schedule_cron=" 0 2 * * * ",
        schedule_timezone="Europe/Berlin",
        schedule_concurrency="forbid",
        schedule_missed="catch_up",
        schedule_max_catch_up="3",
        schedule_deadline="5m",
        schedule_suspended="on",
    )
    assert not form.errors
    assert spec is not None
    assert spec.schedule == schedules.ScheduleSpec(
        cron="0 2 * * *",
        timezone="Europe/Berlin",
        concurrency_policy="forbid",
        missed_runs="catch_up",
        max_catch_up=3,
        starting_deadline_seconds=300,
        suspended=True,
    )


def test_defaults_fill_what_was_left_alone() -> None:
    spec, _ = submit(schedule_cron="@hourly", schedule_timezone="")
    assert spec is not None and spec.schedule is not None
    assert spec.schedule.timezone == "UTC"
    assert spec.schedule.concurrency_policy == "allow"
    assert spec.schedule.missed_runs == "run_once"
    assert spec.schedule.max_catch_up == 10
    assert spec.schedule.starting_deadline_seconds is None
    assert not spec.schedule.suspended


@pytest.mark.parametrize(
    ("typed", "field", "words"),
    [
        ({"schedule_cron": "61 * * * *"}, "schedule_cron", "minute 61 is out of range 0-59"),
        ({"schedule_cron": "0 2 * *"}, "schedule_cron", "must have 5 fields"),
        ({"schedule_cron": "0 0 30 2 *"}, "schedule_cron", "never fires"),
        (
            {"schedule_cron": "0 2 * * *", "schedule_timezone": "Mars/Olympus"},
            "schedule_timezone",
            "not a known IANA time zone",
        ),
        (
            {"schedule_cron": "0 2 * * *", "schedule_max_catch_up": "-1"},
            "schedule_max_catch_up",
            "whole number of at least 0",
        ),
        (
            {"schedule_cron": "0 2 * * *", "schedule_max_catch_up": "5000"},
            "schedule_max_catch_up",
            "less than or equal to 1000",
        ),
        (
            {"schedule_cron": "0 2 * * *", "schedule_deadline": "soon"},
            "schedule_deadline",
            "number of seconds",
        ),
        (
            {"schedule_cron": "0 2 * * *", "schedule_concurrency": "sometimes"},
            "schedule_concurrency",
            "'allow', 'forbid' or 'replace'",
        ),
    ],
)
def test_a_bad_schedule_is_reported_at_its_field_and_kept(
    typed: dict[str, str], field: str, words: str
) -> None:
    spec, form = submit(**typed)
    assert spec is None
    assert list(form.errors) == [field]
    assert words in form.errors[field]
    assert all(form.values[k] == v for k, v in typed.items())


def test_a_stored_schedule_comes_back_into_the_form_unchanged() -> None:
    stored = schedules.ScheduleSpec(
        cron="0 30 6 * * MON-FRI",
        timezone="America/New_York",
        concurrency_policy="replace",
        missed_runs="skip",
        max_catch_up=0,
        starting_deadline_seconds=60,
        suspended=True,
    )
    job = jobs.JobSpec.model_validate(
        {"name": "x", "source": {"type": "path", "path": "/a.py"}, "schedule": stored}
    )
    values = schedule.prefill_schedule(job)
    assert values[schedule.CRON] == "0 30 6 * * MON-FRI"
    errs = forms.Errors()
    again = schedule.parse_schedule(values, errs)
    assert not errs
    assert schedules.ScheduleSpec.model_validate(again["schedule"]) == stored


def test_a_job_without_a_schedule_shows_the_defaults() -> None:
    job = jobs.JobSpec.model_validate({"name": "x", "source": {"type": "path", "path": "/a.py"}})
    assert schedule.prefill_schedule(job) == schedule.DEFAULTS
    assert schedule.CRON not in schedule.DEFAULTS


def test_the_zone_suggestions_are_the_iana_names() -> None:
    assert schedule.ZONES[0] == "UTC"
    assert {"Europe/Berlin", "America/New_York", "Asia/Kolkata"} <= set(schedule.ZONES)
    assert len(schedule.ZONES) == len(set(schedule.ZONES)) > 300


# -- the live preview ------------------------------------------------------------------------


def test_the_preview_says_it_in_words_with_the_next_five_times() -> None:
    shown = schedule.preview(" 0 2 * * * ", "Europe/Berlin", NOW)
    assert shown.error is None
    assert shown.description == "At 02:00, Europe/Berlin"
    assert [t.local_text for t in shown.times] == [
        "Sat 2026-11-28 02:00 CET",
        "Sun 2026-11-29 02:00 CET",
        "Mon 2026-11-30 02:00 CET",
        "Tue 2026-12-01 02:00 CET",
        "Wed 2026-12-02 02:00 CET",
    ]
    assert shown.times[0].utc_text == "2026-11-28 01:00 UTC"
    assert shown.times[0].utc == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def test_the_preview_follows_the_spring_change() -> None:
    # Berlin skips 02:00-03:00 on 2026-03-29: that night's run is at the change, 03:00 CEST.
    shown = schedule.preview("30 2 * * *", "Europe/Berlin", datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert [t.local_text for t in shown.times[:3]] == [
        "Sun 2026-03-29 03:00 CEST",
        "Mon 2026-03-30 02:30 CEST",
        "Tue 2026-03-31 02:30 CEST",
    ]
    assert shown.times[0].utc_text == "2026-03-29 01:00 UTC"


def test_seconds_show_when_the_cron_has_them() -> None:
    shown = schedule.preview("15 0 * * * *", "UTC", NOW)
    assert shown.times[0].local_text == "Fri 2026-11-27 12:00:15 UTC"


@pytest.mark.parametrize(
    ("cron", "zone", "error"),
    [
        ("61 * * * *", "UTC", "Cron: cron minute 61 is out of range 0-59"),
        ("0 2 * *", "UTC", "Cron: cron must have 5 fields (or 6 with seconds first), got 4"),
        ("@sometimes", "UTC", "Cron: cron macro '@sometimes' is not supported"),
        ("0 2 * * *", "Europe/Nowhere", "Time zone: timezone 'Europe/Nowhere' is not a known"),
    ],
)
def test_the_preview_tells_what_is_wrong(cron: str, zone: str, error: str) -> None:
    shown = schedule.preview(cron, zone, NOW)
    assert shown.error is not None and shown.error.startswith(error)
    assert shown.description is None and not shown.times


def test_the_preview_of_an_empty_cron_is_no_schedule() -> None:
    assert schedule.preview("", "Europe/Berlin", NOW) == schedule.Preview(cron="")


def test_the_form_page_leaves_the_error_to_the_field() -> None:
    form = forms.JobForm(values={schedule.CRON: "61 * * * *"})
    assert schedule.form_preview(form).error is not None  # typed, not yet sent
    form.errors.add(schedule.CRON, "cron minute 61 is out of range 0-59")
    quiet = schedule.form_preview(form)
    assert quiet.error is None and quiet.description is None and quiet.cron == "61 * * * *"


# -- alerts ----------------------------------------------------------------------------------


def test_targets_are_read_line_by_line() -> None:
    spec, form = submit(
        alerts_on_failure="https://hooks.example.org/T0/abc\n\n  ops@example.com  \n",
        alerts_on_start="http://127.0.0.1:9000/hook",
    )
    assert not form.errors
    assert spec is not None and spec.notify is not None
    assert spec.notify.on_failure == [
        alerts.WebhookTarget(webhook="https://hooks.example.org/T0/abc"),
        alerts.EmailTarget(email="ops@example.com"),
    ]
    assert spec.notify.on_start == [alerts.WebhookTarget(webhook="http://127.0.0.1:9000/hook")]
    assert spec.notify.on_success == []
    assert spec.notify.last_attempt_only


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ops@example.com\nslack #ops", "line 2: write an https:// URL (a webhook) or an email"),
        ("ops@-example.com", "line 1: email must be a plain address"),
        ("a b@example.com", "line 1: email must be a plain address"),
        ("https://", "line 1: webhook must be an http:// or https:// URL with a host"),
        ("https://ex ample.org/x", "line 1: webhook URL must not contain spaces"),
    ],
)
def test_a_bad_target_is_reported_by_its_line(text: str, words: str) -> None:
    spec, form = submit(alerts_on_success=text)
    assert spec is None
    assert list(form.errors) == ["alerts_on_success"]
    assert form.errors["alerts_on_success"].startswith(words)
    assert form.values["alerts_on_success"] == text


def test_too_many_targets_are_refused_at_the_field() -> None:
    many = "\n".join(f"ops{i}@example.com" for i in range(alerts.MAX_TARGETS + 1))
    spec, form = submit(alerts_on_failure=many)
    assert spec is None
    assert "at most 20" in form.errors["alerts_on_failure"]


def test_no_targets_and_the_default_box_means_no_notify() -> None:
    spec, _ = submit()
    assert spec is not None and spec.notify is None


def test_unticking_last_attempt_only_is_kept_even_without_targets() -> None:
    form = forms.blank(SECTIONS)
    form.values.update(BASE)
    del form.values[alert_section.LAST_ATTEMPT_ONLY]  # an unticked box is not sent
    spec = forms.to_spec(SECTIONS, form)
    assert spec is not None
    assert spec.notify == alerts.NotifySpec(last_attempt_only=False)


def test_stored_targets_come_back_into_the_form_unchanged() -> None:
    notify = alerts.NotifySpec.model_validate(
        {
            "on_failure": [{"email": "ops@example.com"}, {"webhook": "https://h.example.org/x"}],
            "on_success": [{"email": "team@example.com"}],
            "last_attempt_only": False,
        }
    )
    job = jobs.JobSpec.model_validate(
        {"name": "x", "source": {"type": "path", "path": "/a.py"}, "notify": notify}
    )
    values = alert_section.prefill_alerts(job)
    assert values == {
        "alerts_on_failure": "ops@example.com\nhttps://h.example.org/x",
        "alerts_on_success": "team@example.com",
        "alerts_on_start": "",
    }
    errs = forms.Errors()
    again = alert_section.parse_alerts(values, errs)
    assert not errs
    assert alerts.NotifySpec.model_validate(again["notify"]) == notify


def test_the_job_page_shows_a_webhooks_host_only() -> None:
    job = jobs.JobSpec.model_validate(
        {
            "name": "x",
            "source": {"type": "path", "path": "/a.py"},
            "notify": {
                "on_failure": [
                    {"webhook": "https://hooks.example.org/services/T0/secret-token"},
                    {"email": "ops@example.com"},
                ]
            },
        }
    )
    summary = pages_schedule.alert_summary(job)
    assert summary == [
        ("On failure", ["webhook https://hooks.example.org/...", "email ops@example.com"])
    ]
    assert "secret-token" not in repr(summary)


# -- history rows ----------------------------------------------------------------------------


def test_a_history_row_names_its_slots() -> None:
    first, last = datetime(2026, 11, 27, 1, tzinfo=UTC), datetime(2026, 11, 29, 1, tzinfo=UTC)

    def row(kind: str, count: int | None, end: datetime) -> pages_schedule.HistoryRow:
        return pages_schedule.HistoryRow(kind, NOW, first, end, count, None, "why")

    assert row("fired", 1, first).slots == "2026-11-27 01:00:00 UTC"
    assert row("skipped", 3, last).slots == (
        "3 slots, 2026-11-27 01:00:00 UTC to 2026-11-29 01:00:00 UTC"
    )
    assert row("suspended", None, first).slots == ""
    assert row("manual", None, first).slots == ""
