"""Checks on a job spec that need the server's settings or its store.

The spec's own shape is checked by jobs.JobSpec; here we check what it points
at: the conf against the admin's allow-list, the source against the disk and
the artifact store, and that we can tell what kind of application it is.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from sparkjobs import errors, jobs, store
from sparkjobs.config import Settings
from sparkjobs.store import repo


def check_spec(settings: Settings, session: store.Session, spec: jobs.JobSpec) -> None:
    """Raise Invalid (with the field) if the spec cannot be run on this server."""
    jobs.check_conf(spec.conf, settings.allowed_conf_keys)
    filename = source_filename(settings, session, spec.source)
    jobs.kind_of(filename, spec.kind)
    extra = {"files": spec.files, "py_files": spec.py_files, "jars": spec.jars}
    for name, sources in extra.items():
        for i, source in enumerate(sources):
            source_filename(settings, session, source, field=f"{name}.{i}")


def source_filename(
    settings: Settings, session: store.Session, source: jobs.Source, *, field: str = "source"
) -> str:
    """The name of the file the source yields (its suffix tells the kind)."""
    if isinstance(source, jobs.PathSource):
        return str(resolve_path_source(settings, source.path, field=f"{field}.path"))
    if isinstance(source, jobs.UrlSource):
        return PurePosixPath(urlsplit(source.url).path).name
    if isinstance(source, jobs.GitSource):
        try:
            jobs.check_git_repo_allowed(source.repo, settings.allow_local_git)
        except errors.Invalid as exc:
            raise errors.Invalid(exc.message, field=f"{field}.repo") from exc
        return source.target
    return _artifact_filename(session, source, field=f"{field}.id")


def _artifact_filename(session: store.Session, source: jobs.ArtifactSource, *, field: str) -> str:
    try:
        return repo.get_artifact(session, source.id).filename
    except errors.NotFound as exc:
        raise errors.Invalid(
            f"artifact '{source.id}' does not exist; upload the file with "
            "'sparkjobs artifacts upload FILE' and use the id it prints",
            field=field,
        ) from exc


def resolve_path_source(settings: Settings, raw: str, *, field: str = "source.path") -> Path:
    """The real file a path source names, if it lies under an allowed directory.

    Symlinks are followed before the check, so a link cannot lead outside.
    """
    roots = [d.resolve() for d in settings.allowed_source_dirs]
    if not roots:
        raise errors.Invalid(
            "path sources are disabled; set SPARKJOBS_ALLOWED_SOURCE_DIRS to the server "
            "directories jobs may read from, or upload the file as an artifact",
            field=field,
        )
    path = Path(raw).resolve()
    allowed = ", ".join(str(r) for r in roots)
    if not any(path.is_relative_to(root) for root in roots):
        raise errors.Invalid(
            f"'{raw}' is not under an allowed directory ({allowed}); move the file there "
            "or upload it as an artifact",
            field=field,
        )
    if not path.is_file():
        raise errors.Invalid(f"'{raw}' does not exist or is not a file", field=field)
    return path
