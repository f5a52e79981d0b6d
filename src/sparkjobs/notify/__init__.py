"""Alerts: tell people when a run starts, succeeds or fails, by webhook or email.

How the supervisor uses it::

    dispatcher = notify.AlertDispatcher(
        functools.partial(notify.deliver, settings=settings), on_result=record_event
    )
    alert = notify.plan_alert(job, run, settings, log_tail=masked_tail)
    if alert:
        dispatcher.submit(alert)   # never blocks; results come to record_event later
    ...
    dispatcher.close(timeout=5)

Delivery retries with exponential backoff and never raises; a dead webhook
costs the alert thread its retries and nothing else.
"""

from __future__ import annotations

from sparkjobs.notify.delivery import DeliveryResult, deliver
from sparkjobs.notify.dispatcher import AlertDispatcher, Deliver, OnResult
from sparkjobs.notify.payload import (
    FAILURE_STATES,
    Alert,
    Target,
    build_alert,
    email_text,
    event_for,
    plan_alert,
    run_link,
    targets_for,
    wanted,
)
from sparkjobs.notify.senders import DeliveryError, send_email, send_webhook

__all__ = [
    "FAILURE_STATES",
    "Alert",
    "AlertDispatcher",
    "Deliver",
    "DeliveryError",
    "DeliveryResult",
    "OnResult",
    "Target",
    "build_alert",
    "deliver",
    "email_text",
    "event_for",
    "plan_alert",
    "run_link",
    "send_email",
    "send_webhook",
    "targets_for",
    "wanted",
]
