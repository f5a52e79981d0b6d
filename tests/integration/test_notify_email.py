"""Email alerts through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from sparkjobs import alerts, jobs, notify, runs
from sparkjobs.config import Settings
from tests.support import free_port

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def message(self, i: int = 0) -> Message:
        content = self.envelopes[i].content
        assert isinstance(content, bytes)
        return message_from_bytes(content)


def _check_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"alerts", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp(settings: Settings) -> Iterator[tuple[Inbox, Settings]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_check_login,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield (
            inbox,
            settings.model_copy(
                update={
                    "smtp_host": "127.0.0.1",
                    "smtp_port": port,
                    "smtp_from": "sparkjobs@example.com",
                }
            ),
        )
    finally:
        controller.stop()


def _failed_alert(settings: Settings) -> notify.Alert:
    spec = jobs.JobSpec.model_validate(
        {
            "name": "nightly",
            "source": {"type": "path", "path": "/opt/app.py"},
            "notify": {"on_failure": [{"email": "ops@example.com"}]},
        }
    )
    job = jobs.Job(name="nightly", version=1, spec=spec, created_at=NOW, updated_at=NOW)
    run = runs.Run(
        id="r77",
        job="nightly",
        job_version=1,
        state=runs.RunState.LOST,
        trigger=runs.Trigger.API,
        created_at=NOW,
        reason="the driver process vanished",
    )
    alert = notify.plan_alert(job, run, settings, log_tail=["last words", "token=***"])
    assert alert is not None
    return alert


def test_email_alert_reaches_the_smtp_server(smtp: tuple[Inbox, Settings]) -> None:
    inbox, settings = smtp
    alert = _failed_alert(settings)
    result = notify.deliver(alert.targets[0], alert.payload, settings=settings, backoff_s=0.01)
    assert result.ok, result.error
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "sparkjobs@example.com"
    assert envelope.rcpt_tos == ["ops@example.com"]
    message = inbox.message()
    subject = message["Subject"]
    assert subject == "sparkjobs: job nightly run r77 lost (the driver process vanished)"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode()
    for needle in (
        "job: nightly",
        "run_id: r77",
        "state: lost",
        "reason: the driver process vanished",
    ):
        assert needle in text
    assert "token=***" in text


def test_smtp_login_with_settings_credentials(smtp: tuple[Inbox, Settings]) -> None:
    inbox, settings = smtp
    settings = settings.model_copy(update={"smtp_username": "alerts", "smtp_password": "s3cret"})
    settings = Settings.model_validate(settings.model_dump())  # SecretStr from plain text
    alert = _failed_alert(settings)
    assert notify.deliver(alert.targets[0], alert.payload, settings=settings).ok
    assert len(inbox.envelopes) == 1


def test_wrong_smtp_password_fails_without_retrying(smtp: tuple[Inbox, Settings]) -> None:
    inbox, settings = smtp
    settings = Settings.model_validate(
        {**settings.model_dump(), "smtp_username": "alerts", "smtp_password": "wrong"}
    )
    alert = _failed_alert(settings)
    slept: list[float] = []
    result = notify.deliver(
        alerts.EmailTarget(email="ops@example.com"),
        alert.payload,
        settings=settings,
        sleep=slept.append,
    )
    assert not result.ok and result.attempts == 1 and slept == []
    assert result.error is not None and "535" in result.error and "wrong" not in result.error
    assert inbox.envelopes == []


def test_unreachable_smtp_server_is_retried_then_reported(settings: Settings) -> None:
    settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    slept: list[float] = []
    result = notify.deliver(
        alerts.EmailTarget(email="ops@example.com"),
        {"text": "x"},
        settings=settings,
        attempts=3,
        backoff_s=0.01,
        timeout_s=2,
        sleep=slept.append,
    )
    assert not result.ok and result.attempts == 3 and slept == [0.01, 0.02]
    assert result.error is not None and "SMTP server 127.0.0.1 failed" in result.error
