"""Checking a job spec or a binding against this server, and sealing its secrets.

The one place that does so before anything is stored: the API, the web form
and the CLI (through the API) all come here. A spec's own shape is checked by
jobs.JobSpec; here we check what it points at (the conf against the admin's
allow-list, sources against the disk, the artifacts and the git policy, the
bindings it lists) and replace every inbound secret by its ciphertext.

Secrets on update. A client never sees a stored secret, so it cannot send it
back. To keep one, it sends the variable as ``{"name": "X", "keep": true}``:
the stored ciphertext of X (in the previous version of the job or binding)
takes its place; without a stored secret X that is a 422 at ``env.N.keep``.
An inbound ``secret`` equal to the stored one keeps the stored ciphertext,
so applying an unchanged file makes no new version. An inbound
``secret_ciphertext`` is accepted only when it is exactly the stored one.

Every error is errors.Invalid with ``field`` set as the API shows it: a dotted
path without source type tags (``source.path``, ``files.0.id``,
``bindings.1``, ``env.2.keep``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from sparkjobs import envvars, errors, jobs, store
from sparkjobs.config import Settings
from sparkjobs.inputs.secrets import SecretBox
from sparkjobs.store import repo

#: Spec fields that list further sources.
SOURCE_LISTS = ("files", "py_files", "jars")


def prepare_job_spec(
    settings: Settings,
    db: store.Database,
    box: SecretBox,
    spec: jobs.JobSpec,
    *,
    previous: jobs.JobSpec | None,
) -> jobs.JobSpec:
    """The spec as it may be stored: checked against this server, its secrets sealed.

    `previous` is the job's current spec when this is an update (None for a new
    job); it supplies the secrets that ``keep: true`` keeps. Raises Invalid
    (RefusedConf for a guarded conf key) naming the field.
    """
    check_conf(settings, spec.conf)
    with db.session() as s:
        filename = source_filename(settings, s, spec.source)
        for name in SOURCE_LISTS:
            for i, source in enumerate(getattr(spec, name)):
                source_filename(settings, s, source, field=f"{name}.{i}")
        check_bindings(s, spec.bindings)
    jobs.kind_of(filename, spec.kind)
    env = seal_env(box, spec.env, previous.env if previous else ())
    return spec.model_copy(update={"env": env})


def prepare_binding(
    box: SecretBox, binding: envvars.Binding, *, previous: envvars.Binding | None
) -> envvars.Binding:
    """The binding as it may be stored: secrets sealed, ``keep: true`` taken from `previous`."""
    env = seal_env(box, binding.env, previous.env if previous else ())
    return binding.model_copy(update={"env": env})


def seal_override_env(box: SecretBox, env: Sequence[envvars.EnvVar]) -> list[dict[str, str]]:
    """A run's env override as runs.RunOverrides stores it: plain values and ciphertexts."""
    for i, var in enumerate(env):
        if var.keep or var.secret_ciphertext is not None:
            raise errors.Invalid(
                f"env {var.name!r}: a run's env takes a 'value' or a 'secret' "
                "(there is no stored secret of the run to keep)",
                field=f"env.{i}",
            )
    sealed = envvars.seal(env, box.encrypt)
    return [v.model_dump(mode="json", exclude_none=True) for v in sealed]


def check_conf(settings: Settings, conf: dict[str, str]) -> None:
    """Raise RefusedConf (field 'conf') for a guarded key the admin has not allowed."""
    try:
        jobs.check_conf(conf, settings.allowed_conf_keys)
    except errors.RefusedConf as exc:
        raise errors.RefusedConf(exc.message, field="conf") from exc


def check_bindings(s: store.Session, names: Sequence[str]) -> None:
    """Raise Invalid naming the first listed binding that does not exist."""
    for i, name in enumerate(names):
        try:
            repo.get_binding(s, name)
        except errors.BindingNotFound as exc:
            raise errors.Invalid(
                f"binding '{name}' does not exist; create it first "
                "('sparkjobs bindings apply -f FILE') or remove it from the job's bindings",
                field=f"bindings.{i}",
            ) from exc


def seal_env(
    box: SecretBox, env: Sequence[envvars.EnvVar], previous: Sequence[envvars.EnvVar]
) -> list[envvars.EnvVar]:
    """Every secret of env as a ciphertext; see the module's docstring for keep."""
    stored = {v.name: v for v in previous if v.secret_ciphertext is not None}
    return [_sealed(box, var, stored.get(var.name), i) for i, var in enumerate(env)]


def _sealed(
    box: SecretBox, var: envvars.EnvVar, stored: envvars.EnvVar | None, index: int
) -> envvars.EnvVar:
    if var.value is not None:
        return var
    if var.secret is not None:
        plain = var.secret.get_secret_value()
        if stored is not None and _decrypts_to(box, stored, plain):
            return stored
        return envvars.EnvVar(name=var.name, secret_ciphertext=box.encrypt(plain))
    if stored is not None and (var.keep or var.secret_ciphertext == stored.secret_ciphertext):
        return stored
    raise errors.Invalid(
        f'env {var.name!r} has no stored secret to keep; send its value as "secret"',
        field=f"env.{index}.{'keep' if var.keep else 'secret_ciphertext'}",
    )


def _decrypts_to(box: SecretBox, stored: envvars.EnvVar, plain: str) -> bool:
    assert stored.secret_ciphertext is not None
    with contextlib.suppress(errors.InputError):  # the key changed: seal anew
        return box.decrypt(stored.secret_ciphertext) == plain
    return False


def source_filename(
    settings: Settings, s: store.Session, source: jobs.Source, *, field: str = "source"
) -> str:
    """The name of the file the source yields (its suffix tells the kind). Raises Invalid."""
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
    return _artifact_filename(s, source, field=f"{field}.id")


def _artifact_filename(s: store.Session, source: jobs.ArtifactSource, *, field: str) -> str:
    try:
        return repo.get_artifact(s, source.id).filename
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
