"""Webhook alerts against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sparkjobs import alerts, jobs, notify, runs
from sparkjobs.config import Settings
from tests.support import WebhookReceiver

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def target(hook: WebhookReceiver) -> alerts.WebhookTarget:
    return alerts.WebhookTarget(webhook=hook.url)


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver("hooks/T0/SECRET-TOKEN") as receiver:
        yield receiver


@pytest.fixture
def dead_url() -> str:
    """A loopback port nothing listens on: bind one, note it, close it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/T0/SECRET-TOKEN"


def failed_job_and_run(url: str) -> tuple[jobs.Job, runs.Run]:
    spec = jobs.JobSpec.model_validate(
        {
            "name": "nightly",
            "source": {"type": "path", "path": "/opt/app.py"},
            "notify": {"on_failure": [{"webhook": url}]},
        }
    )
    job = jobs.Job(name="nightly", version=2, spec=spec, created_at=NOW, updated_at=NOW)
    run = runs.Run(
        id="r42",
        job="nightly",
        job_version=2,
        state=runs.RunState.FAILED,
        trigger=runs.Trigger.SCHEDULE,
        created_at=NOW,
        finished_at=NOW,
        exit_code=3,
        reason="exit code 3",
        scheduled_for=NOW,
    )
    return job, run


def test_failure_alert_reaches_the_webhook_through_the_dispatcher(
    hook: WebhookReceiver, settings: Settings
) -> None:
    settings = settings.model_copy(update={"public_url": "http://jobs.example.com"})
    job, run = failed_job_and_run(hook.url)
    alert = notify.plan_alert(job, run, settings, log_tail=["Traceback ...", "password=***"])
    assert alert is not None
    results: list[tuple[str, notify.DeliveryResult]] = []
    dispatcher = notify.AlertDispatcher(
        functools.partial(notify.deliver, settings=settings, backoff_s=0.01),
        lambda run_id, result: results.append((run_id, result)),
    )
    dispatcher.submit(alert)
    assert dispatcher.close(timeout=10)

    [body] = hook.bodies
    assert body["event"] == "failure"
    assert body["job"] == "nightly" and body["run_id"] == "r42"
    assert body["state"] == "failed" and body["reason"] == "exit code 3"
    assert body["log_tail"] == ["Traceback ...", "password=***"]
    assert body["link"] == "http://jobs.example.com/runs/r42"
    assert hook.headers[0]["Content-Type"] == "application/json"
    assert results == [
        (
            "r42",
            notify.DeliveryResult(
                target="webhook http://" + hook.url.split("/")[2] + "/...", ok=True, attempts=1
            ),
        )
    ]


def test_server_errors_are_retried_with_backoff(hook: WebhookReceiver, settings: Settings) -> None:
    hook.statuses = [500, 503]
    slept: list[float] = []
    result = notify.deliver(
        target(hook),
        {"n": 1},
        settings=settings,
        backoff_s=0.01,
        sleep=slept.append,
    )
    assert result.ok and result.attempts == 3
    assert slept == [0.01, 0.02]
    assert len(hook.bodies) == 3


def test_client_errors_are_not_retried(hook: WebhookReceiver, settings: Settings) -> None:
    hook.statuses = [404]
    result = notify.deliver(target(hook), {"n": 1}, settings=settings, backoff_s=0.01)
    assert not result.ok and result.attempts == 1
    assert result.error == "webhook answered HTTP 404"


def test_rate_limit_is_retried(hook: WebhookReceiver, settings: Settings) -> None:
    hook.statuses = [429]
    result = notify.deliver(target(hook), {"n": 1}, settings=settings, backoff_s=0.01)
    assert result.ok and result.attempts == 2


def test_dead_webhook_fails_quickly_after_bounded_retries(
    dead_url: str, settings: Settings
) -> None:
    started = time.monotonic()
    result = notify.deliver(
        alerts.WebhookTarget(webhook=dead_url),
        {"n": 1},
        settings=settings,
        attempts=3,
        backoff_s=0.05,
        timeout_s=2,
    )
    assert time.monotonic() - started < 3
    assert not result.ok and result.attempts == 3
    assert result.error is not None and "could not be reached" in result.error
    assert "SECRET-TOKEN" not in result.error and "SECRET-TOKEN" not in result.describe()


def test_slow_webhook_times_out(hook: WebhookReceiver, settings: Settings) -> None:
    hook.delay_s = 1.0
    started = time.monotonic()
    result = notify.deliver(
        target(hook),
        {"n": 1},
        settings=settings,
        attempts=2,
        backoff_s=0.01,
        timeout_s=0.2,
    )
    assert time.monotonic() - started < 3
    assert not result.ok and result.attempts == 2
    assert "Timeout" in (result.error or "") or "timed out" in (result.error or "")


def test_a_dead_webhook_never_blocks_the_submitter(dead_url: str, settings: Settings) -> None:
    job, run = failed_job_and_run(dead_url)
    alert = notify.plan_alert(job, run, settings, log_tail=[])
    assert alert is not None
    results: list[notify.DeliveryResult] = []
    dispatcher = notify.AlertDispatcher(
        functools.partial(notify.deliver, settings=settings, attempts=3, backoff_s=0.02),
        lambda run_id, result: results.append(result),
    )
    started = time.monotonic()
    for _ in range(5):
        assert dispatcher.submit(alert)
    assert time.monotonic() - started < 0.1
    assert dispatcher.close(timeout=30)
    assert len(results) == 5 and not any(r.ok for r in results)
