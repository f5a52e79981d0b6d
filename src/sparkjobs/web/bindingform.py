"""The binding form: what was typed -> an envvars.Binding, with errors beside their fields.

Its variables are the same rows as the job form's Environment (sections/env.py),
so a secret is as write-only here as there. The Kubernetes references are
optional: a Service (name, namespace, port), a Secret and a ConfigMap.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pydantic

from sparkjobs import envvars, errors, store
from sparkjobs.inputs.secrets import SecretBox
from sparkjobs.store import repo
from sparkjobs.supervisor import specs
from sparkjobs.web import forms
from sparkjobs.web.sections import env
from sparkjobs.web.sections.text import optional, present, whole

#: Binding error locations (first parts) -> the form field that shows the error.
FIELDS = {
    ("name",): "name",
    ("description",): "description",
    ("env",): env.FIELD,
    ("service",): "service_name",
    ("service", "namespace"): "service_namespace",
    ("service", "port"): "service_port",
    ("secret_ref",): "secret_name",
    ("config_map_ref",): "config_map_name",
}


def field_for(loc: Sequence[int | str]) -> str:
    """The form field for an error at `loc`, by the longest matching prefix."""
    for size in (2, 1):
        found = FIELDS.get(tuple(str(p) for p in loc[:size]))
        if found is not None:
            return found
    return forms.FORM_ERROR


def parse(v: forms.Values, errs: forms.Errors) -> dict[str, Any]:
    service_name = optional(v, "service_name")
    service = present(
        name=service_name,
        namespace=optional(v, "service_namespace"),
        port=whole(v, "service_port", errs, low=1),
    )
    if service and service_name is None:
        errs.add("service_name", "name the Service, or leave its namespace and port empty")
    secret_name, config_map_name = optional(v, "secret_name"), optional(v, "config_map_name")
    return present(
        name=v.get("name", "").strip(),
        description=v.get("description", "").strip(),
        env=env.parse_rows(v, errs),
        service=service or None,
        secret_ref={"name": secret_name} if secret_name else None,
        config_map_ref={"name": config_map_name} if config_map_name else None,
    )


def to_binding(form: forms.JobForm) -> envvars.Binding | None:
    """The binding the form describes, or None with form.errors filled in."""
    data = parse(form.values, form.errors)
    try:
        binding = envvars.Binding.model_validate(data)
    except pydantic.ValidationError as exc:
        for err in exc.errors():
            message = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
            form.errors.add(field_for(err["loc"]), message)
        return None
    return None if form.errors else binding


def prefill(binding: envvars.Binding) -> forms.Values:
    service = binding.service
    return {
        "name": binding.name,
        "description": binding.description,
        "service_name": service.name if service else "",
        "service_namespace": (service.namespace or "") if service else "",
        "service_port": str(service.port or "") if service else "",
        "secret_name": binding.secret_ref.name if binding.secret_ref else "",
        "config_map_name": binding.config_map_ref.name if binding.config_map_ref else "",
        **env.prefill_rows(binding.env),
    }


def _store(
    s: store.Session, box: SecretBox, binding: envvars.Binding, *, editing: bool
) -> envvars.Binding:
    try:
        previous: envvars.Binding | None = repo.get_binding(s, binding.name)
    except errors.BindingNotFound:
        previous = None
    if previous is not None and not editing:
        raise errors.Invalid(
            f"a binding named {binding.name} exists already; edit it instead", field="name"
        )
    sealed = specs.prepare_binding(box, binding, previous=previous)
    return repo.put_binding(s, sealed, datetime.now(UTC))[0]


def save(
    db: store.Database, box: SecretBox, form: forms.JobForm, *, editing: str | None = None
) -> envvars.Binding | None:
    """Create (or, editing, replace) the binding; None with form.errors set."""
    if editing is not None:
        form.values["name"] = editing  # a binding keeps its name: jobs refer to it
    binding = to_binding(form)
    if binding is None:
        return None
    try:
        with db.session() as s:
            return _store(s, box, binding, editing=editing is not None)
    except errors.Invalid as exc:
        loc = (exc.field or "").split(".")
        form.errors.add(field_for(loc) if exc.field else forms.FORM_ERROR, exc.message)
    except errors.Conflict as exc:
        form.errors.add("name", exc.message)
    return None
