"""Retries with their backoff, and the timeout."""

from __future__ import annotations

from typing import Any

from sparkjobs import jobs
from sparkjobs.web.forms import Errors, Section, Values
from sparkjobs.web.sections.text import present, seconds, text_of, whole


def parse_failure(v: Values, errs: Errors) -> dict[str, Any]:
    retries = whole(v, "retries", errs)
    backoff = seconds(v, "backoff", errs)
    policy = present(max_attempts=None if retries is None else retries + 1, backoff_seconds=backoff)
    return present(retries=policy, timeout_seconds=seconds(v, "timeout", errs))


def prefill_failure(spec: jobs.JobSpec) -> Values:
    return {
        "retries": str(spec.retries.max_attempts - 1),
        "backoff": f"{spec.retries.backoff_seconds:g}",
        "timeout": text_of(spec.timeout_seconds),
    }


SECTION = Section(
    key="failure",
    title="When it fails or hangs",
    template="jobs/form/failure.html",
    inputs=("retries", "backoff", "timeout"),
    parse=parse_failure,
    prefill=prefill_failure,
    paths={
        "retries": "retries",
        "retries.max_attempts": "retries",
        "retries.backoff_seconds": "backoff",
        "timeout_seconds": "timeout",
    },
    defaults={"retries": "0", "backoff": "10"},
)
