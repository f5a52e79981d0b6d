"""The job form: what was typed, the errors beside its fields, and the JobSpec it makes.

The form is made of sections (see sections.py), each one template partial, one
parse function (typed text -> part of a spec) and one prefill function (spec ->
typed text). Errors are keyed by the form field they concern, whether they come
from parsing, from JobSpec's validation or from the server's checks, so the page
can show each one next to its field while keeping everything that was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pydantic
from starlette.datastructures import FormData

from sparkjobs import errors, jobs

Values = dict[str, str]
#: Where an error goes that no field owns (shown at the top of the form).
FORM_ERROR = "_form"


class Errors(dict[str, str]):
    """Field name -> message; the first message for a field wins."""

    def add(self, name: str, message: str) -> None:
        self.setdefault(name, message)


@dataclass(frozen=True, kw_only=True)
class Section:
    key: str
    title: str
    template: str
    #: The form fields it reads (an error in one of them covers the whole section's input).
    inputs: tuple[str, ...]
    parse: Callable[[Values, Errors], dict[str, Any]]
    prefill: Callable[[jobs.JobSpec], Values]
    #: Dotted JobSpec paths -> the form field an error at that path belongs to.
    paths: Mapping[str, str]
    defaults: Mapping[str, str] = field(default_factory=dict)
    #: What its template needs besides the form (choices of a select, ...).
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class JobForm:
    values: Values
    errors: Errors = field(default_factory=Errors)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


def submitted(form: FormData) -> Values:
    """The text fields of a posted form, with the browser's CRLF line ends made LF."""
    return {
        key: value.replace("\r\n", "\n")
        for key, value in form.multi_items()
        if isinstance(value, str) and key != "csrf_token"
    }


def blank(sections: Sequence[Section]) -> JobForm:
    return JobForm(values={k: v for s in sections for k, v in s.defaults.items()})


def from_spec(sections: Sequence[Section], spec: jobs.JobSpec) -> JobForm:
    return JobForm(values={k: v for s in sections for k, v in s.prefill(spec).items()})


def owned(sections: Iterable[Section]) -> set[str]:
    """The JobSpec fields the form's sections fill in."""
    return {path.split(".")[0] for section in sections for path in section.paths}


def kept(sections: Iterable[Section], spec: jobs.JobSpec) -> list[str]:
    """Fields of the spec that the form does not show but keeps when it saves."""
    mine = owned(sections)
    return [k for k, v in spec.model_dump().items() if k not in mine and v not in (None, [], {})]


def to_spec(
    sections: Sequence[Section], form: JobForm, base: jobs.JobSpec | None = None
) -> jobs.JobSpec | None:
    """The spec the form describes, or None with form.errors filled in.

    Fields no section owns are taken from `base` (the job being edited), so a
    form that does not show them yet never drops them.
    """
    mine = owned(sections)
    dumped = base.model_dump(mode="json") if base is not None else {}
    data: dict[str, Any] = {k: v for k, v in dumped.items() if k not in mine}
    for section in sections:
        data.update(section.parse(form.values, form.errors))
    try:
        spec = jobs.JobSpec.model_validate(data)
    except pydantic.ValidationError as exc:
        for err in exc.errors():
            name = field_for(sections, err["loc"])
            # A part left out because it could not be read is "missing": its parse error says why.
            if err["type"] != "missing" or not _section_has_error(sections, form.errors, name):
                form.errors.add(name, _message(err))
        return None
    return None if form.errors else spec


def _section_has_error(sections: Sequence[Section], errs: Errors, name: str) -> bool:
    section = next((s for s in sections if name in s.inputs), None)
    return section is not None and any(i in errs for i in section.inputs)


def add_domain_error(sections: Sequence[Section], errs: Errors, exc: errors.SparkJobsError) -> None:
    """Record a server-side error (RefusedConf, a missing file ...) at the field it names."""
    name = getattr(exc, "field", None)
    target = field_for(sections, tuple(name.split("."))) if name else FORM_ERROR
    errs.add(target, exc.message)


def field_for(sections: Iterable[Section], loc: Sequence[int | str]) -> str:
    """The form field for a JobSpec error location, by the longest matching path."""
    path = ".".join(str(p) for p in loc)
    best, found = -1, FORM_ERROR
    for section in sections:
        for prefix, name in section.paths.items():
            if (path == prefix or path.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), name
    return found


def _message(err: Mapping[str, Any]) -> str:
    message = str(err.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")
