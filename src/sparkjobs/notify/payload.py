"""What an alert says and whom it goes to, decided from a finished (or starting) run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sparkjobs import alerts, config, jobs, runs

FAILURE_STATES = frozenset({runs.RunState.FAILED, runs.RunState.TIMED_OUT, runs.RunState.LOST})
#: A webhook body stays small: the last lines of the log, each cut to a length.
MAX_LOG_LINES = 50
MAX_LINE_CHARS = 500

Target = alerts.WebhookTarget | alerts.EmailTarget


@dataclass(frozen=True, kw_only=True)
class Alert:
    """One alert to deliver: the same payload to each target."""

    run_id: str
    event: alerts.AlertEvent
    targets: tuple[Target, ...]
    payload: dict[str, Any]


def event_for(run: runs.Run) -> alerts.AlertEvent | None:
    """The event a run's state is: running -> start, succeeded, or a failure; else None."""
    if run.state in FAILURE_STATES:
        return "failure"
    if run.state == runs.RunState.SUCCEEDED:
        return "success"
    if run.state == runs.RunState.RUNNING:
        return "start"
    return None  # stopped on request, or not yet at a state worth telling


def wanted(event: alerts.AlertEvent, run: runs.Run, spec: jobs.JobSpec) -> bool:
    """False for the attempts last_attempt_only keeps quiet (a retry follows, or a retry starts)."""
    if spec.notify is not None and not spec.notify.last_attempt_only:
        return True
    if event == "failure":
        return run.attempt >= spec.retries.max_attempts
    if event == "start":
        return run.attempt == 1
    return True


def targets_for(
    event: alerts.AlertEvent, spec: jobs.JobSpec, settings: config.Settings
) -> tuple[Target, ...]:
    """The job's targets for the event, plus the server's default targets for failures."""
    own = spec.notify.targets(event) if spec.notify else []
    if event == "failure":
        own += alerts.parse_targets(
            settings.alert_default_targets, field="SPARKJOBS_ALERT_DEFAULT_TARGETS"
        )
    return tuple(dict.fromkeys(own))  # a target named twice gets one alert


def plan_alert(
    job: jobs.Job, run: runs.Run, settings: config.Settings, *, log_tail: Sequence[str]
) -> Alert | None:
    """The alert this run's state calls for, or None. `log_tail` must already be masked."""
    event = event_for(run)
    if event is None or not wanted(event, run, job.spec):
        return None
    targets = targets_for(event, job.spec, settings)
    if not targets:
        return None
    payload = build_alert(job, run, log_tail, run_link(settings, run.id), event=event)
    return Alert(run_id=run.id, event=event, targets=targets, payload=payload)


def run_link(settings: config.Settings, run_id: str) -> str | None:
    """The run's page on the web UI, when the server knows its public URL."""
    if not settings.public_url:
        return None
    return f"{settings.public_url.rstrip('/')}/runs/{run_id}"


def build_alert(
    job: jobs.Job,
    run: runs.Run,
    log_tail: Sequence[str],
    link: str | None,
    *,
    event: alerts.AlertEvent | None = None,
) -> dict[str, Any]:
    """The JSON body of an alert. `log_tail` must already have its secrets masked."""
    event = event or event_for(run) or "failure"
    return {
        "text": summary(job.name, run, event),
        "event": event,
        "job": job.name,
        "job_version": run.job_version,
        "labels": dict(job.spec.labels),
        "run_id": run.id,
        "state": str(run.state),
        "reason": run.reason,
        "exit_code": run.exit_code,
        "attempt": run.attempt,
        "max_attempts": job.spec.retries.max_attempts,
        "trigger": str(run.trigger),
        "scheduled_for": _iso(run.scheduled_for),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "spark_app_id": run.spark_app_id,
        "log_tail": [line[:MAX_LINE_CHARS] for line in list(log_tail)[-MAX_LOG_LINES:]],
        "link": link,
    }


def summary(job: str, run: runs.Run, event: alerts.AlertEvent) -> str:
    """One line: 'sparkjobs: job wordcount run abc123 failed (exit code 1)'."""
    verb = {"start": "started", "success": "succeeded"}.get(event, str(run.state))
    why = f" ({run.reason})" if run.reason and event == "failure" else ""
    return f"sparkjobs: job {job} run {run.id} {verb}{why}"


def email_text(payload: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of the alert mail."""
    subject = payload["text"].replace("\n", " ")[:200]
    fields = ("job", "run_id", "state", "reason", "exit_code", "attempt", "trigger", "link")
    lines = [f"{name}: {payload.get(name)}" for name in fields if payload.get(name) is not None]
    tail = payload.get("log_tail") or []
    if tail:
        lines += ["", "Last log lines (secrets masked):", *tail]
    return subject, "\n".join(lines) + "\n"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
