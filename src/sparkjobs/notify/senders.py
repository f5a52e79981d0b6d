"""Sending one alert once: a JSON POST to a webhook, or a mail through SMTP.

Both raise DeliveryError with a message fit for a run event (a webhook URL
can hold a token, so messages name the target only by its host).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

import httpx

from sparkjobs import alerts, config, errors

USER_AGENT = "sparkjobs-alerts"


class DeliveryError(errors.SparkJobsError):
    """The alert could not be delivered."""

    def __init__(self, message: str | None = None, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def send_webhook(url: str, payload: dict[str, Any], *, timeout_s: float) -> None:
    """POST `payload` as JSON; a 2xx answer is success. Redirects are not followed."""
    try:
        response = httpx.post(
            url, json=payload, timeout=timeout_s, headers={"User-Agent": USER_AGENT}
        )
    except httpx.HTTPError as exc:
        where = alerts.describe_target(alerts.WebhookTarget(webhook=url))
        detail = str(exc).replace(url, where) or type(exc).__name__
        raise DeliveryError(f"{where} could not be reached: {detail}") from exc
    status = response.status_code
    if not 200 <= status < 300:
        # 4xx means the request is wrong and will stay wrong, except timeouts and rate limits.
        retryable = status >= 500 or status in (408, 429)
        raise DeliveryError(f"webhook answered HTTP {status}", retryable=retryable)


def send_email(
    settings: config.Settings, to: str, subject: str, body: str, *, timeout_s: float
) -> None:
    """Send a plain-text mail through the SMTP server in settings."""
    if not settings.smtp_host:
        raise DeliveryError(
            "no SMTP server configured; set SPARKJOBS_SMTP_HOST to send email alerts",
            retryable=False,
        )
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        _submit(settings, message, timeout_s)
    except smtplib.SMTPResponseException as exc:
        # 5xx is a permanent refusal; 4xx asks to try again later.
        raise DeliveryError(
            f"SMTP server refused the mail: {exc.smtp_code} {exc.smtp_error!r}",
            retryable=exc.smtp_code < 500,
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP server {settings.smtp_host} failed: {exc}") from exc


def _submit(settings: config.Settings, message: EmailMessage, timeout_s: float) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout_s) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)
