"""The job's name, description and labels."""

from __future__ import annotations

from typing import Any

from sparkjobs import jobs
from sparkjobs.web.forms import Errors, Section, Values
from sparkjobs.web.sections.text import pairs, show_pairs


def parse_basics(v: Values, errs: Errors) -> dict[str, Any]:
    return {
        "name": v.get("name", "").strip(),
        "description": v.get("description", "").strip(),
        "labels": pairs(v.get("labels", ""), "labels", errs),
    }


def prefill_basics(spec: jobs.JobSpec) -> Values:
    return {
        "name": spec.name,
        "description": spec.description,
        "labels": show_pairs(spec.labels),
    }


SECTION = Section(
    key="basics",
    title="Job",
    template="jobs/form/basics.html",
    inputs=("name", "description", "labels"),
    parse=parse_basics,
    prefill=prefill_basics,
    paths={"name": "name", "description": "description", "labels": "labels"},
)
