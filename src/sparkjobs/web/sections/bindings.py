"""The service bindings a job uses: one checkbox (``binding-NAME``) per binding."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sparkjobs import envvars, jobs
from sparkjobs.web.forms import Errors, Section, Values

PREFIX = "binding-"
FIELD = "bindings"


@dataclass(frozen=True)
class Choice:
    name: str
    description: str
    checked: bool
    #: Ticked in the job but not on the server (deleted since): untick it to save.
    missing: bool

    @property
    def field(self) -> str:
        return PREFIX + self.name


def chosen(values: Values) -> list[str]:
    """The ticked bindings, in the order the form sent them."""
    return [k.removeprefix(PREFIX) for k, v in values.items() if k.startswith(PREFIX) and v]


def choices(values: Values, existing: Iterable[envvars.Binding]) -> list[Choice]:
    """Every binding on the server, and any ticked one that is not there any more."""
    ticked = set(chosen(values))
    listed = [
        Choice(b.name, b.description, checked=b.name in ticked, missing=False) for b in existing
    ]
    known = {c.name for c in listed}
    gone = [Choice(n, "", checked=True, missing=True) for n in sorted(ticked - known)]
    return listed + gone


def parse_bindings(v: Values, errs: Errors) -> dict[str, Any]:
    return {"bindings": chosen(v)}


def prefill_bindings(spec: jobs.JobSpec) -> Values:
    return {PREFIX + name: "on" for name in spec.bindings}


SECTION = Section(
    key="bindings",
    title="Bindings",
    template="jobs/form/bindings.html",
    inputs=(FIELD,),
    parse=parse_bindings,
    prefill=prefill_bindings,
    paths={"bindings": FIELD},
)
