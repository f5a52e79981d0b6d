"""Saving a submitted job form: keep the upload, check the spec on this server, store it.

The checks against the server and the sealing of secrets are supervisor.specs'
(shared with the API); its errors name fields as the API does (`source.path`).

An uploaded file is kept as an artifact before the rest is checked, and its id
rides along in the form: when another field needs fixing, the file need not be
chosen again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.datastructures import UploadFile

from sparkjobs import errors, jobs, store
from sparkjobs.config import Settings
from sparkjobs.inputs.secrets import SecretBox
from sparkjobs.store import repo
from sparkjobs.supervisor import specs, uploads
from sparkjobs.web import forms
from sparkjobs.web.sections import SECTIONS
from sparkjobs.web.sections.text import pairs


def keep_upload(settings: Settings, db: store.Database, upload: UploadFile) -> jobs.Artifact:
    """Store an uploaded file as an artifact. Raises Invalid (bad name, too large)."""
    return uploads.keep_upload(settings, db, upload.filename, upload.file)


def save(
    settings: Settings,
    db: store.Database,
    form: forms.JobForm,
    upload: UploadFile | None,
    *,
    editing: jobs.Job | None = None,
) -> jobs.Job | None:
    """Create (or, editing, update) the job the form describes; None with form.errors set."""
    if editing is not None:
        form.values["name"] = editing.name  # a job keeps its name
    if form.get("source_type") == "upload" and upload is not None and upload.filename:
        try:
            form.values["artifact_id"] = keep_upload(settings, db, upload).id
        except errors.Invalid as exc:
            form.errors.add("file", exc.message)
    _check_conf_early(settings, form)
    spec = forms.to_spec(SECTIONS, form, editing.spec if editing else None)
    if spec is None:
        return None
    try:
        box = SecretBox.from_settings(settings)  # the supervisor's key: same settings
        previous = editing.spec if editing else None
        stored = specs.prepare_job_spec(settings, db, box, spec, previous=previous)
        with db.session() as s:
            now = datetime.now(UTC)
            return repo.update_job(s, stored, now) if editing else repo.create_job(s, stored, now)
    except errors.JobExists as exc:
        form.errors.add("name", exc.message)
    except errors.SparkJobsError as exc:
        forms.add_domain_error(SECTIONS, form.errors, exc)
    return None


def _check_conf_early(settings: Settings, form: forms.JobForm) -> None:
    """A refused conf key is reported with the other errors, not only once they are fixed."""
    try:
        specs.check_conf(settings, pairs(form.get("conf"), "conf", forms.Errors()))
    except errors.RefusedConf as exc:
        form.errors.add("conf", exc.message)
