"""Environment variables as rows of name, value and a Secret checkbox.

Each row is four fields: ``env-N-name``, ``env-N-value``, ``env-N-secret``
(ticked: the value is a secret) and, for a secret the server already holds,
``env-N-stored`` (the name it is stored under). N only tells rows apart: rows
added in the browser take the next free number, removed ones leave gaps.

A secret's value goes one way only. A stored one shows as "set" and an empty
field keeps it; a typed one is never written back into a page, not even when
the form comes back with errors (the row then asks for it again). The bindings
page uses the same rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sparkjobs import envvars, jobs
from sparkjobs.web.forms import Errors, Section, Values

_ROW_FIELD = re.compile(r"^env-(\d{1,4})-(name|value|secret|stored)$")
#: Field-free placeholder for the env section as a whole (duplicates across sources ...).
FIELD = "env"


@dataclass(frozen=True)
class EnvRow:
    """One row as a template shows it; `value` is None for a secret (never shown)."""

    index: int
    name: str
    value: str | None
    secret: bool
    #: The server holds a secret for this row: an empty field keeps it.
    stored: str
    #: A secret was typed but the form came back: it must be typed again.
    retype: bool

    def field(self, part: str) -> str:
        return f"env-{self.index}-{part}"


def indices(values: Values) -> list[int]:
    """The row numbers present in the form, in order."""
    found = {int(m.group(1)) for key in values if (m := _ROW_FIELD.match(key))}
    return sorted(found)


def rows(values: Values, *, came_back: bool) -> list[EnvRow]:
    """The rows to show; `came_back` when the form is shown again after errors."""
    shown = []
    for i in indices(values):
        secret = values.get(f"env-{i}-secret") == "on"
        value = values.get(f"env-{i}-value", "")
        shown.append(
            EnvRow(
                index=i,
                name=values.get(f"env-{i}-name", ""),
                value=None if secret else value,
                secret=secret,
                stored=values.get(f"env-{i}-stored", ""),
                retype=secret and came_back and bool(value),
            )
        )
    return shown


def view(values: Values, *, came_back: bool) -> dict[str, object]:
    """The template's `env_rows` (one blank row when there is none) and `env_next`."""
    shown = rows(values, came_back=came_back)
    if not shown:
        shown = [EnvRow(index=0, name="", value="", secret=False, stored="", retype=False)]
    return {"env_rows": shown, "env_next": shown[-1].index + 1}


def _row(values: Values, i: int, errs: Errors) -> dict[str, Any] | None:
    """One row as an env entry; None for a blank row or one with an error."""
    name = values.get(f"env-{i}-name", "").strip()
    value = values.get(f"env-{i}-value", "")
    secret = values.get(f"env-{i}-secret") == "on"
    stored = values.get(f"env-{i}-stored", "")
    if not name:
        if value or stored:
            errs.add(f"env-{i}-name", "give the variable a name")
        return None
    if not envvars.ENV_NAME.fullmatch(name):
        errs.add(f"env-{i}-name", "use letters, digits and '_', not starting with a digit")
        return None
    if not secret:
        return {"name": name, "value": value}
    if value:
        return {"name": name, "secret": value}
    if stored and stored == name:
        return {"name": name, "keep": True}  # the server puts the stored secret back
    if stored:
        errs.add(f"env-{i}-value", f"type the secret again to store it as {name}")
        return None
    errs.add(f"env-{i}-value", "type the secret's value")
    return None


def parse_rows(values: Values, errs: Errors) -> list[dict[str, Any]]:
    """Every filled-in row as an env entry (``{"name", "value"}`` or ``{"name", "secret"}``)."""
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i in indices(values):
        entry = _row(values, i, errs)
        if entry is None:
            continue
        if entry["name"] in seen:
            errs.add(f"env-{i}-name", f"{entry['name']} is given twice")
            continue
        seen.add(entry["name"])
        entries.append(entry)
    return entries


def prefill_rows(env: list[envvars.EnvVar]) -> Values:
    """Rows for stored variables; a secret's row carries its name only."""
    values: Values = {}
    for i, var in enumerate(env):
        values[f"env-{i}-name"] = var.name
        if var.is_secret:
            values[f"env-{i}-secret"] = "on"
            values[f"env-{i}-stored"] = var.name
        else:
            values[f"env-{i}-value"] = var.value or ""
    return values


def parse_env(v: Values, errs: Errors) -> dict[str, Any]:
    return {"env": parse_rows(v, errs)}


def prefill_env(spec: jobs.JobSpec) -> Values:
    return prefill_rows(spec.env)


SECTION = Section(
    key="env",
    title="Environment",
    template="jobs/form/env.html",
    inputs=(FIELD,),
    parse=parse_env,
    prefill=prefill_env,
    paths={"env": FIELD},
)
