"""Spark conf as key = value lines."""

from __future__ import annotations

from typing import Any

from sparkjobs import jobs
from sparkjobs.web.forms import Errors, Section, Values
from sparkjobs.web.sections.text import pairs, show_pairs


def parse_conf(v: Values, errs: Errors) -> dict[str, Any]:
    return {"conf": pairs(v.get("conf", ""), "conf", errs)}


def prefill_conf(spec: jobs.JobSpec) -> Values:
    return {"conf": show_pairs(spec.conf)}


SECTION = Section(
    key="conf",
    title="Spark settings",
    template="jobs/form/conf.html",
    inputs=("conf",),
    parse=parse_conf,
    prefill=prefill_conf,
    paths={"conf": "conf"},
)
