"""Resolve a run's inputs into a LaunchPlan the backend can start.

Sources (artifact, server path, URL, git) become local files linked into the
run's directory under their own names; stored secrets are decrypted; what was
resolved (git commits) comes back as notes for the run's events.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sparkjobs import envvars, errors, jobs, launch, runs, store
from sparkjobs.config import Settings
from sparkjobs.inputs import artifacts, git, urls
from sparkjobs.inputs.secrets import SecretBox
from sparkjobs.store import Database, repo

Log = Callable[[str], None]
PROPERTIES_FILE = "sparkjobs-secret.properties"


@dataclass(frozen=True, kw_only=True)
class ResolvedSource:
    path: Path
    filename: str


@dataclass(kw_only=True)
class Planned:
    plan: launch.LaunchPlan
    #: Sentences for the run's events (resolved commits, where env came from); no values.
    notes: list[str] = field(default_factory=list)


class Planner:
    def __init__(self, settings: Settings, db: Database, box: SecretBox) -> None:
        self._settings = settings
        self._db = db
        self._box = box

    def plan(
        self,
        run: runs.Run,
        spec: jobs.JobSpec,
        *,
        work_dir: Path,
        spark_submit: str,
        extra_conf: dict[str, str],
        log: Log,
    ) -> Planned:
        """The launch plan for one run of a job version, with its overrides applied."""
        notes: list[str] = []
        main = self._link(work_dir, self.resolve(spec.source, log, notes))
        kind = jobs.kind_of(main.name, spec.kind)
        if kind == "jar" and spec.main_class is None and jar_main_class(main) is None:
            raise errors.InputError(f"jar {main.name} has no Main-Class; set main_class")
        env, secrets = envvars.resolve(self.merged_env(run, spec, notes), self._box.decrypt)
        master = spec.master or self._settings.default_master
        conf = {**spec.conf, **(run.overrides.conf or {}), **extra_conf, **placement(spec)}
        plan = launch.LaunchPlan(
            run_id=run.id,
            app_name=f"{run.job}-{run.id}",
            job=run.job,
            spark_submit=spark_submit,
            master=master,
            kind=kind,
            main_file=str(main),
            main_class=spec.main_class,
            args=tuple(effective_args(run, spec)),
            conf=conf,
            driver_cores=spec.driver.cores,
            driver_memory=spec.driver.memory,
            executor_cores=spec.executor.cores,
            executor_memory=spec.executor.memory,
            executor_instances=spec.executor.instances,
            files=self._many(spec.files, work_dir, log, notes),
            py_files=self._many(spec.py_files, work_dir, log, notes),
            jars=self._many(spec.jars, work_dir, log, notes),
            packages=tuple(spec.packages),
            env=env,
            secrets=secrets,
            timeout_seconds=spec.timeout_seconds,
        )
        return Planned(plan=plan, notes=notes)

    def merged_env(
        self, run: runs.Run, spec: jobs.JobSpec, notes: list[str]
    ) -> list[envvars.EnvVar]:
        """Bindings < the job's env < the run's override; a note per variable says whence.

        A binding's Kubernetes references (service, secret_ref, config_map_ref)
        are the Kubernetes backend's to apply; here only its env counts.
        """
        with self._db.session() as s:
            bindings = [self._binding(s, name) for name in spec.bindings]
        merged, origins = envvars.merge_env(spec.env, bindings)
        overrides = [envvars.EnvVar.model_validate(v) for v in run.overrides.env or []]
        notes += [f"env {origin.describe()}" for origin in origins]
        return apply_overrides(merged, overrides, notes)

    @staticmethod
    def _binding(s: store.Session, name: str) -> envvars.Binding:
        try:
            return repo.get_binding(s, name)
        except errors.BindingNotFound as exc:
            raise errors.InputError(
                f"binding '{name}', which the job lists, no longer exists; "
                "create it again or remove it from the job"
            ) from exc

    def resolve(self, source: jobs.Source, log: Log, notes: list[str]) -> ResolvedSource:
        """The local file a source names, fetched if it must be."""
        settings = self._settings
        if isinstance(source, jobs.ArtifactSource):
            with self._db.session() as s:
                artifact = repo.get_artifact(s, source.id)
            return ResolvedSource(
                path=artifacts.artifact_path(settings, artifact), filename=artifact.filename
            )
        if isinstance(source, jobs.PathSource):
            return _allowed_path(settings, source.path)
        if isinstance(source, jobs.UrlSource):
            log(f"sparkjobs: fetching {source.url}\n")
            path = urls.fetch_url(
                source.url,
                cache_dir=settings.data_dir / "cache" / "urls",
                sha256=source.sha256,
                max_bytes=settings.max_download_bytes,
                timeout_s=settings.fetch_timeout_seconds,
            )
            return ResolvedSource(path=path, filename=path.name)
        result = git.fetch_git(
            source,
            cache_dir=settings.data_dir / "cache" / "git",
            allow_local=settings.allow_local_git,
            timeout_s=settings.fetch_timeout_seconds,
            build_timeout_s=settings.build_timeout_seconds,
            log=log,
        )
        notes.append(f"git {source.repo} at {source.ref} is commit {result.commit}")
        return ResolvedSource(path=result.path, filename=result.path.name)

    def _many(
        self, sources: list[jobs.Source], work_dir: Path, log: Log, notes: list[str]
    ) -> tuple[str, ...]:
        return tuple(str(self._link(work_dir, self.resolve(s, log, notes))) for s in sources)

    @staticmethod
    def _link(work_dir: Path, resolved: ResolvedSource) -> Path:
        """Give each input its own name in the run's directory (Spark and jobs use the names)."""
        target = work_dir / resolved.filename
        if target.exists() or target.is_symlink():
            raise errors.InputError(
                f"two inputs of the run are named {resolved.filename}; rename one of them"
            )
        target.symlink_to(resolved.path.resolve())
        return target


def apply_overrides(
    merged: list[envvars.EnvVar], overrides: list[envvars.EnvVar], notes: list[str]
) -> list[envvars.EnvVar]:
    """The run's own env on top of its job's; a note for each variable it sets."""
    by_name = {v.name: v for v in merged}
    for var in overrides:
        replaced = " (replaces the job's or a binding's)" if var.name in by_name else ""
        notes.append(f"env {var.name} from the run's overrides{replaced}")
        by_name[var.name] = var
    return list(by_name.values())


def _allowed_path(settings: Settings, raw: str) -> ResolvedSource:
    """A server path, checked again at run time (the admin may have changed the settings)."""
    path = Path(raw).resolve()
    if not any(path.is_relative_to(d.resolve()) for d in settings.allowed_source_dirs):
        raise errors.InputError(f"{raw} is not under a directory the admin allows")
    if not path.is_file():
        raise errors.InputError(f"{raw} does not exist or is not a file")
    return ResolvedSource(path=path, filename=path.name)


def with_executor_env(plan: launch.LaunchPlan, work_dir: Path) -> launch.LaunchPlan:
    """Hand the run's env to executors in other processes (a cluster), secrets off the argv.

    Plain values go in as spark.executorEnv.* conf; secret ones into a properties
    file only the server's user can read, so they never show in a process list.
    Local masters need neither: their executors live in the driver's JVM.
    """
    if plan.master.startswith("local") or not plan.env:
        return plan
    secret_values = set(plan.secrets)
    conf = dict(plan.conf)
    hidden: dict[str, str] = {}
    for name, value in plan.env.items():
        (hidden if value in secret_values else conf)[f"spark.executorEnv.{name}"] = value
    properties = None
    if hidden:
        path = work_dir / PROPERTIES_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(java_property(k, v) for k, v in sorted(hidden.items()))
        properties = str(path)
    return replace(plan, conf=conf, properties_file=properties)


def java_property(key: str, value: str) -> str:
    """One line of a Java properties file, escaped so that any value reads back as it was."""
    return f"{_escape(key, key=True)}={_escape(value, key=False)}\n"


def _escape(text: str, *, key: bool) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}[ch])
        elif (ch == " " and (key or i == 0)) or ch in "=:#!":
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")  # Spark reads the file as UTF-8: the rest stays
        else:
            out.append(ch)
    return "".join(out)


def jar_main_class(jar: Path) -> str | None:
    """The Main-Class a jar's manifest names, if any."""
    try:
        with zipfile.ZipFile(jar) as zf:
            manifest = zf.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError):
        return None
    for line in manifest.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "main-class" and value.strip():
            return value.strip()
    return None


def placement(spec: jobs.JobSpec) -> dict[str, str]:
    """The job's namespace and image as the Spark conf that names them (Kubernetes reads
    them; other backends ignore them). Jobs cannot set these keys themselves (guarded)."""
    given = {
        "spark.kubernetes.namespace": spec.namespace,
        "spark.kubernetes.container.image": spec.image,
    }
    return {key: value for key, value in given.items() if value}


def effective_args(run: runs.Run, spec: jobs.JobSpec) -> list[str]:
    """The run's args: its override if it has one, else its job version's."""
    return list(run.overrides.args) if run.overrides.args is not None else list(spec.args)
