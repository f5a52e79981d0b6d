"""Whom to tell about a run: target lists for failure, success and start, one per line.

A line starting with http:// or https:// is a webhook; any other line with an
'@' is an email address. Each line is checked here, so an error names its line.
"""

from __future__ import annotations

from typing import Any

import pydantic

from sparkjobs import alerts, jobs
from sparkjobs.web.forms import Errors, Section, Values

ON_FAILURE = "alerts_on_failure"
ON_SUCCESS = "alerts_on_success"
ON_START = "alerts_on_start"
LAST_ATTEMPT_ONLY = "alerts_last_attempt_only"
#: Form field -> NotifySpec field.
LISTS: dict[str, str] = {ON_FAILURE: "on_failure", ON_SUCCESS: "on_success", ON_START: "on_start"}


def _target(line: str) -> dict[str, str] | str:
    """The target a line names, or what is wrong with it."""
    kind = "webhook" if line.lower().startswith(("http://", "https://")) else None
    kind = kind or ("email" if "@" in line else None)
    if kind is None:
        return "write an https:// URL (a webhook) or an email address"
    model = alerts.WebhookTarget if kind == "webhook" else alerts.EmailTarget
    try:
        model.model_validate({kind: line})
    except pydantic.ValidationError as exc:
        return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
    return {kind: line}


def targets(text: str, name: str, errs: Errors) -> list[dict[str, str]]:
    """The targets of a field's lines; blank lines are skipped, bad ones reported by number."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        target = _target(line.strip())
        if isinstance(target, str):
            errs.add(name, f"line {number}: {target}")
        else:
            found.append(target)
    return found


def parse_alerts(v: Values, errs: Errors) -> dict[str, Any]:
    lists = {key: targets(v.get(field, ""), field, errs) for field, key in LISTS.items()}
    last_only = v.get(LAST_ATTEMPT_ONLY) == "on"
    if not any(lists.values()) and last_only:
        return {"notify": None}  # nothing to say beyond the defaults
    return {"notify": {**lists, "last_attempt_only": last_only}}


def _line(target: alerts.WebhookTarget | alerts.EmailTarget) -> str:
    return target.webhook if isinstance(target, alerts.WebhookTarget) else target.email


def prefill_alerts(spec: jobs.JobSpec) -> Values:
    notify = spec.notify or alerts.NotifySpec()
    values = {
        field: "\n".join(_line(t) for t in getattr(notify, key)) for field, key in LISTS.items()
    }
    return values | ({LAST_ATTEMPT_ONLY: "on"} if notify.last_attempt_only else {})


SECTION = Section(
    key="alerts",
    title="Alerts",
    template="jobs/form/alerts.html",
    inputs=(ON_FAILURE, ON_SUCCESS, ON_START, LAST_ATTEMPT_ONLY),
    parse=parse_alerts,
    prefill=prefill_alerts,
    paths={
        "notify": ON_FAILURE,
        "notify.on_failure": ON_FAILURE,
        "notify.on_success": ON_SUCCESS,
        "notify.on_start": ON_START,
        "notify.last_attempt_only": LAST_ATTEMPT_ONLY,
    },
    defaults={LAST_ATTEMPT_ONLY: "on"},
)
