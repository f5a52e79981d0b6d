"""What kind of application it is, its main class and its arguments."""

from __future__ import annotations

from typing import Any

from sparkjobs import jobs
from sparkjobs.web.forms import Errors, Section, Values
from sparkjobs.web.sections.text import lines, optional, present

KINDS: tuple[tuple[str, str], ...] = (
    ("", "Tell from the file name"),
    ("python", "Python"),
    ("jar", "Jar"),
)


def parse_application(v: Values, errs: Errors) -> dict[str, Any]:
    kind = v.get("kind", "")
    if kind not in {k for k, _ in KINDS}:
        errs.add("kind", "choose Python, Jar or 'Tell from the file name'")
    return present(
        kind=kind or None,
        main_class=optional(v, "main_class"),
        args=lines(v.get("args", "")),
    )


def prefill_application(spec: jobs.JobSpec) -> Values:
    return {
        "kind": spec.kind or "",
        "main_class": spec.main_class or "",
        "args": "\n".join(spec.args),
    }


SECTION = Section(
    key="application",
    title="Application",
    template="jobs/form/application.html",
    inputs=("kind", "main_class", "args"),
    parse=parse_application,
    prefill=prefill_application,
    paths={"kind": "kind", "main_class": "main_class", "args": "args"},
    options={"kinds": KINDS},
)
