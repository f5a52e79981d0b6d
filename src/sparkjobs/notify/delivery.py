"""Delivering an alert to one target with retries and backoff; never raises."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sparkjobs import alerts, config
from sparkjobs.notify import payload as payload_module
from sparkjobs.notify import senders

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DeliveryResult:
    """What happened to one alert for one target; the supervisor records it as a run event."""

    #: The target as alerts.describe_target shows it (no webhook token).
    target: str
    ok: bool
    attempts: int
    error: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"alert sent to {self.target}"
        return f"alert to {self.target} failed after {self.attempts} attempt(s): {self.error}"


def deliver(
    target: payload_module.Target,
    payload: dict[str, Any],
    *,
    settings: config.Settings,
    attempts: int = 4,
    backoff_s: float = 2.0,
    timeout_s: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """Send, retrying retryable failures after backoff_s, 2*backoff_s, 4*backoff_s ..."""
    name = alerts.describe_target(target)
    error = "not attempted"
    for attempt in range(1, attempts + 1):
        try:
            _send_once(target, payload, settings, timeout_s)
            return DeliveryResult(target=name, ok=True, attempts=attempt)
        except senders.DeliveryError as exc:
            error = exc.message
            if not exc.retryable:
                return DeliveryResult(target=name, ok=False, attempts=attempt, error=error)
        except Exception as exc:  # a bug must not take the run or the alert thread down
            log.exception("alert to %s failed unexpectedly", name)
            error = f"unexpected {type(exc).__name__}"
            return DeliveryResult(target=name, ok=False, attempts=attempt, error=error)
        if attempt < attempts:
            sleep(backoff_s * 2 ** (attempt - 1))
    return DeliveryResult(target=name, ok=False, attempts=attempts, error=error)


def _send_once(
    target: payload_module.Target,
    payload: dict[str, Any],
    settings: config.Settings,
    timeout_s: float,
) -> None:
    if isinstance(target, alerts.WebhookTarget):
        senders.send_webhook(target.webhook, payload, timeout_s=timeout_s)
        return
    subject, body = payload_module.email_text(payload)
    senders.send_email(settings, target.email, subject, body, timeout_s=timeout_s)
