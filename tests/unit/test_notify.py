"""Alerts: targets, which runs alert whom, the payload, and the dispatcher's queue."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from sparkjobs import alerts, errors, jobs, notify, runs
from sparkjobs.config import Settings

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
HOOK = {"webhook": "https://hooks.example.com/services/T000/SECRET-TOKEN"}
OPS = {"email": "ops@example.com"}


def job(**fields: Any) -> jobs.Job:
    spec = jobs.JobSpec.model_validate(
        {"name": "nightly", "source": {"type": "path", "path": "/opt/app.py"}, **fields}
    )
    return jobs.Job(name="nightly", version=3, spec=spec, created_at=NOW, updated_at=NOW)


def run(state: runs.RunState = runs.RunState.FAILED, **fields: Any) -> runs.Run:
    defaults: dict[str, Any] = {
        "id": "r123",
        "job": "nightly",
        "job_version": 3,
        "trigger": runs.Trigger.SCHEDULE,
        "created_at": NOW,
        "reason": "exit code 1",
        "exit_code": 1,
        "scheduled_for": NOW,
    }
    return runs.Run(state=state, **{**defaults, **fields})


# --- targets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ({"webhook": "ftp://example.com/x"}, "http:// or https://"),
        ({"webhook": "https:///nohost"}, "with a host"),
        ({"webhook": "https://example.com/a b"}, "spaces or control"),
        ({"email": "ops@example.com\r\nBcc: x@y.z"}, "plain address"),
        ({"email": "not-an-address"}, "plain address"),
        ({"slack": "#ops"}, 'a target is {"webhook"'),
        ({"webhook": "https://a.example", "email": "a@b.c"}, "Extra inputs"),
    ],
)
def test_bad_targets_are_refused(target: dict[str, str], says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        alerts.NotifySpec.model_validate({"on_failure": [target]})
    assert says in str(caught.value)
    assert caught.value.errors()[0]["loc"][:2] == ("on_failure", 0)


def test_describe_target_hides_the_webhook_path_and_credentials() -> None:
    hook = alerts.WebhookTarget(webhook="https://user:pw@hooks.example.com:8443/T0/SECRET")
    assert alerts.describe_target(hook) == "webhook https://hooks.example.com:8443/..."
    assert alerts.describe_target(alerts.EmailTarget(email="a@b.c")) == "email a@b.c"


def test_default_targets_from_settings_are_validated() -> None:
    with pytest.raises(errors.Invalid) as caught:
        alerts.parse_targets([{"webhook": "gopher://x"}], field="SPARKJOBS_ALERT_DEFAULT_TARGETS")
    assert caught.value.field == "SPARKJOBS_ALERT_DEFAULT_TARGETS"
    assert "http:// or https://" in caught.value.message


def test_default_targets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKJOBS_ALERT_DEFAULT_TARGETS", '[{"email": "ops@example.com"}]')
    monkeypatch.setenv("SPARKJOBS_SMTP_HOST", "mail.example.com")
    settings = Settings()
    assert settings.alert_default_targets == [OPS]
    assert settings.smtp_host == "mail.example.com" and settings.smtp_port == 25


# --- which runs alert whom ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (runs.RunState.FAILED, "failure"),
        (runs.RunState.TIMED_OUT, "failure"),
        (runs.RunState.LOST, "failure"),
        (runs.RunState.SUCCEEDED, "success"),
        (runs.RunState.RUNNING, "start"),
        (runs.RunState.STOPPED, None),
        (runs.RunState.QUEUED, None),
        (runs.RunState.STOPPING, None),
    ],
)
def test_event_for(state: runs.RunState, event: str | None) -> None:
    assert notify.event_for(run(state)) == event


def test_with_retries_only_the_last_attempt_alerts() -> None:
    spec = job(retries={"max_attempts": 3}, notify={"on_failure": [HOOK], "on_start": [OPS]}).spec
    assert not notify.wanted("failure", run(attempt=1), spec)
    assert not notify.wanted("failure", run(attempt=2), spec)
    assert notify.wanted("failure", run(attempt=3), spec)
    assert notify.wanted("start", run(runs.RunState.RUNNING, attempt=1), spec)
    assert not notify.wanted("start", run(runs.RunState.RUNNING, attempt=2), spec)
    every = job(
        retries={"max_attempts": 3}, notify={"on_failure": [HOOK], "last_attempt_only": False}
    )
    assert notify.wanted("failure", run(attempt=1), every.spec)


def test_targets_add_server_defaults_to_failures_once(settings: Settings) -> None:
    spec = job(notify={"on_failure": [HOOK, OPS], "on_success": [HOOK]}).spec
    with_defaults = settings.model_copy(update={"alert_default_targets": [OPS]})
    failure = notify.targets_for("failure", spec, with_defaults)
    assert [alerts.describe_target(t) for t in failure] == [
        "webhook https://hooks.example.com/...",
        "email ops@example.com",
    ]
    assert len(notify.targets_for("success", spec, with_defaults)) == 1
    assert notify.targets_for("failure", job().spec, with_defaults) == (
        alerts.EmailTarget(email="ops@example.com"),
    )
    assert notify.targets_for("failure", job().spec, settings) == ()


def test_plan_alert(settings: Settings) -> None:
    settings = settings.model_copy(update={"public_url": "https://jobs.example.com/"})
    alert = notify.plan_alert(job(notify={"on_failure": [HOOK]}), run(), settings, log_tail=["x"])
    assert alert is not None
    assert alert.run_id == "r123" and alert.event == "failure" and len(alert.targets) == 1
    assert alert.payload["link"] == "https://jobs.example.com/runs/r123"
    assert notify.plan_alert(job(), run(), settings, log_tail=[]) is None  # nobody to tell
    stopped = run(runs.RunState.STOPPED)
    assert (
        notify.plan_alert(job(notify={"on_failure": [HOOK]}), stopped, settings, log_tail=[])
        is None
    )


# --- what an alert says ------------------------------------------------------------------


def test_build_alert_payload() -> None:
    tail = [f"line {i}" for i in range(80)] + ["x" * 2000]
    payload = notify.build_alert(
        job(labels={"team": "data"}), run(), tail, "https://jobs.example.com/runs/r123"
    )
    assert payload["text"] == "sparkjobs: job nightly run r123 failed (exit code 1)"
    assert payload["event"] == "failure"
    assert payload["job"] == "nightly" and payload["job_version"] == 3
    assert payload["run_id"] == "r123" and payload["state"] == "failed"
    assert payload["reason"] == "exit code 1" and payload["trigger"] == "schedule"
    assert payload["scheduled_for"] == "2026-06-01T02:00:00+00:00"
    assert payload["labels"] == {"team": "data"}
    assert len(payload["log_tail"]) == notify.payload.MAX_LOG_LINES
    assert payload["log_tail"][-1] == "x" * notify.payload.MAX_LINE_CHARS
    assert payload["link"] == "https://jobs.example.com/runs/r123"


def test_email_text_names_job_run_state_and_reason() -> None:
    payload = notify.build_alert(
        job(), run(runs.RunState.TIMED_OUT, reason="ran past 60 s"), ["boom"], None
    )
    subject, body = notify.email_text(payload)
    assert subject == "sparkjobs: job nightly run r123 timed_out (ran past 60 s)"
    for needle in (
        "job: nightly",
        "run_id: r123",
        "state: timed_out",
        "reason: ran past 60 s",
        "boom",
    ):
        assert needle in body
    assert "link:" not in body


def test_email_without_smtp_fails_at_once_without_retrying(settings: Settings) -> None:
    slept: list[float] = []
    result = notify.deliver(
        alerts.EmailTarget(email="ops@example.com"),
        {"text": "t"},
        settings=settings,
        sleep=slept.append,
    )
    assert not result.ok and result.attempts == 1 and slept == []
    assert result.error is not None and "SPARKJOBS_SMTP_HOST" in result.error
    assert result.describe().startswith("alert to email ops@example.com failed after 1 attempt(s)")


# --- the dispatcher (with a fake deliver function of our own) ----------------------------


class Recorder:
    def __init__(self) -> None:
        self.results: list[tuple[str, notify.DeliveryResult]] = []

    def __call__(self, run_id: str, result: notify.DeliveryResult) -> None:
        self.results.append((run_id, result))


def alert(run_id: str, *targets: dict[str, str]) -> notify.Alert:
    parsed = tuple(alerts.parse_targets(list(targets), field="t"))
    return notify.Alert(run_id=run_id, event="failure", targets=parsed, payload={"run_id": run_id})


def ok_deliver(target: notify.Target, payload: dict[str, Any]) -> notify.DeliveryResult:
    return notify.DeliveryResult(target=alerts.describe_target(target), ok=True, attempts=1)


def test_dispatcher_delivers_in_order_and_drains_on_close() -> None:
    recorder = Recorder()
    dispatcher = notify.AlertDispatcher(ok_deliver, recorder)
    for i in range(20):
        assert dispatcher.submit(alert(f"r{i}", HOOK, OPS))
    assert dispatcher.close(timeout=10)
    assert [r for r, _ in recorder.results] == [f"r{i}" for i in range(20) for _ in (1, 2)]
    assert all(res.ok for _, res in recorder.results)
    assert not dispatcher.submit(alert("late", HOOK))
    assert recorder.results[-1] == (
        "late",
        notify.DeliveryResult(
            target="webhook https://hooks.example.com/...",
            ok=False,
            attempts=0,
            error="the alert dispatcher is closed",
        ),
    )


def test_dispatcher_never_blocks_the_submitter_when_full() -> None:
    release = threading.Event()

    def slow(target: notify.Target, payload: dict[str, Any]) -> notify.DeliveryResult:
        release.wait(10)
        return ok_deliver(target, payload)

    recorder = Recorder()
    dispatcher = notify.AlertDispatcher(slow, recorder, max_queued=2)
    accepted = [dispatcher.submit(alert(f"r{i}", HOOK)) for i in range(6)]
    assert accepted.count(False) >= 3  # one in the worker's hands, two queued, the rest dropped
    dropped = [res for _, res in recorder.results if not res.ok]
    assert dropped and all("alert queue is full" in (res.error or "") for res in dropped)
    release.set()
    assert dispatcher.close(timeout=10)
    assert sum(res.ok for _, res in recorder.results) == accepted.count(True)


def test_dispatcher_survives_a_failing_callback() -> None:
    seen: list[str] = []

    def flaky(run_id: str, result: notify.DeliveryResult) -> None:
        seen.append(run_id)
        if run_id == "r0":
            raise RuntimeError("database is locked")

    dispatcher = notify.AlertDispatcher(ok_deliver, flaky)
    dispatcher.submit(alert("r0", HOOK))
    dispatcher.submit(alert("r1", HOOK))
    assert dispatcher.close(timeout=10)
    assert seen == ["r0", "r1"]


def test_close_reports_when_the_queue_did_not_drain() -> None:
    release = threading.Event()

    def stuck(target: notify.Target, payload: dict[str, Any]) -> notify.DeliveryResult:
        release.wait(10)
        return ok_deliver(target, payload)

    dispatcher = notify.AlertDispatcher(stuck, Recorder())
    dispatcher.submit(alert("r0", HOOK))
    assert dispatcher.close(timeout=0.2) is False
    release.set()
