"""Saving a submitted job form: keep the upload, check the spec on this server, store it.

An uploaded file is kept as an artifact before the rest is checked, and its id
rides along in the form: when another field needs fixing, the file need not be
chosen again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urlsplit

from starlette.datastructures import UploadFile

from sparkjobs import errors, jobs, store
from sparkjobs.config import Settings
from sparkjobs.inputs import artifacts
from sparkjobs.store import repo
from sparkjobs.web import forms
from sparkjobs.web.sections import SECTIONS
from sparkjobs.web.sections.text import pairs


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    while chunk := file.read(artifacts.CHUNK_SIZE):
        yield chunk


def keep_upload(settings: Settings, db: store.Database, upload: UploadFile) -> jobs.Artifact:
    """Store an uploaded file as an artifact. Raises Invalid (bad name, too large)."""
    filename = artifacts.check_filename(upload.filename)
    sha256, size, _ = artifacts.save_upload(settings, filename, _chunks(upload.file))
    artifact = jobs.Artifact(
        id=artifacts.new_artifact_id(),
        filename=filename,
        sha256=sha256,
        size=size,
        created_at=datetime.now(UTC),
    )
    with db.session() as s:
        return repo.create_artifact(s, artifact)


def check_on_server(settings: Settings, s: store.Session, spec: jobs.JobSpec) -> None:
    """Raise Invalid, naming the field, if this server cannot run the spec."""
    refuse_conf(settings, spec.conf)
    jobs.kind_of(_filename(settings, s, spec.source), spec.kind)


def _filename(settings: Settings, s: store.Session, source: jobs.Source) -> str:
    """The name of the file the source gives (its suffix tells the kind).

    URL and git sources are fetched at run time; their names come from the spec.
    """
    if isinstance(source, jobs.UrlSource):
        return PurePosixPath(urlsplit(source.url).path).name
    if isinstance(source, jobs.GitSource):
        return source.target
    if isinstance(source, jobs.PathSource):
        return _allowed_file(settings, source.path).name
    try:
        return repo.get_artifact(s, source.id).filename
    except errors.NotFound as exc:
        message = f"the uploaded file ({source.id}) is gone; upload it again"
        raise errors.Invalid(message, field="source.artifact.id") from exc


def _allowed_file(settings: Settings, raw: str) -> Path:
    """The file a path source names, if it is one under a directory the admin allows."""
    path = Path(raw).resolve()  # symlinks followed first: a link cannot lead outside
    roots = [d.resolve() for d in settings.allowed_source_dirs]
    if not any(path.is_relative_to(root) for root in roots):
        where = ", ".join(map(str, roots)) or "none: SPARKJOBS_ALLOWED_SOURCE_DIRS is empty"
        raise errors.Invalid(
            f"{raw} is not under a directory the admin allows ({where}); upload the file instead",
            field="source.path.path",
        )
    if not path.is_file():
        raise errors.Invalid(f"{raw} does not exist or is not a file", field="source.path.path")
    return path


def refuse_conf(settings: Settings, conf: dict[str, str]) -> None:
    try:
        jobs.check_conf(conf, settings.allowed_conf_keys)
    except errors.RefusedConf as exc:
        raise errors.RefusedConf(exc.message, field="conf") from exc


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
        with db.session() as s:
            check_on_server(settings, s, spec)
            now = datetime.now(UTC)
            return repo.update_job(s, spec, now) if editing else repo.create_job(s, spec, now)
    except errors.JobExists as exc:
        form.errors.add("name", exc.message)
    except errors.SparkJobsError as exc:
        forms.add_domain_error(SECTIONS, form.errors, exc)
    return None


def _check_conf_early(settings: Settings, form: forms.JobForm) -> None:
    """A refused conf key is reported with the other errors, not only once they are fixed."""
    try:
        refuse_conf(settings, pairs(form.get("conf"), "conf", forms.Errors()))
    except errors.RefusedConf as exc:
        form.errors.add("conf", exc.message)
