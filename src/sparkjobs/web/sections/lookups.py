"""What the Files, Environment and Bindings sections show besides what was typed.

The rows of variables (without any secret's value), the files the job has with
their names, and the bindings there are to pick from: looked up once per page.
"""

from __future__ import annotations

from typing import Any

from sparkjobs import errors, store
from sparkjobs.store import repo
from sparkjobs.web.forms import JobForm
from sparkjobs.web.sections import bindings, env, files


def _names(s: store.Session, ids: list[str]) -> dict[str, str]:
    names = {}
    for artifact_id in ids:
        try:
            names[artifact_id] = repo.get_artifact(s, artifact_id).filename
        except errors.NotFound:
            names[artifact_id] = f"{artifact_id} (gone: upload it again)"
    return names


def page_context(db: store.Database, form: JobForm) -> dict[str, Any]:
    """The template variables of the three sections."""
    with db.session() as s:
        names = _names(s, files.artifact_ids(form.values))
        existing = repo.list_bindings(s)
    return {
        **env.view(form.values, came_back=bool(form.errors)),
        "file_rows": files.rows(form.values, names),
        "binding_choices": bindings.choices(form.values, existing),
    }
