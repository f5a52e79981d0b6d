"""Resolve a run's inputs into a LaunchPlan the backend can start."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from sparkjobs import errors, jobs, launch, runs
from sparkjobs.config import Settings
from sparkjobs.inputs import artifacts
from sparkjobs.store import Session, repo

LOCAL_MASTERS = ("local",)


@dataclass(frozen=True, kw_only=True)
class ResolvedSource:
    path: Path
    filename: str


def resolve_source(session: Session, settings: Settings, source: jobs.Source) -> ResolvedSource:
    """The local file a source names, checked again at run time (settings may have changed)."""
    if isinstance(source, jobs.ArtifactSource):
        artifact = repo.get_artifact(session, source.id)
        return ResolvedSource(
            path=artifacts.artifact_path(settings, artifact), filename=artifact.filename
        )
    path = Path(source.path).resolve()
    if not any(path.is_relative_to(d.resolve()) for d in settings.allowed_source_dirs):
        raise errors.InputError(f"{source.path} is not under a directory the admin allows")
    if not path.is_file():
        raise errors.InputError(f"{source.path} does not exist or is not a file")
    return ResolvedSource(path=path, filename=path.name)


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


def _link_into(work_dir: Path, resolved: ResolvedSource) -> Path:
    """Give the application its own name in the run's directory (Spark shows file names)."""
    target = work_dir / resolved.filename
    if not target.exists():
        target.symlink_to(resolved.path)
    return target


def build_plan(
    *,
    session: Session,
    settings: Settings,
    run: runs.Run,
    spec: jobs.JobSpec,
    work_dir: Path,
    spark_submit: str,
    extra_conf: dict[str, str],
) -> launch.LaunchPlan:
    """The launch plan for one run of a job version, with its overrides applied."""
    resolved = resolve_source(session, settings, spec.source)
    kind = jobs.kind_of(resolved.filename, spec.kind)
    main_class = spec.main_class
    if kind == "jar" and main_class is None and jar_main_class(resolved.path) is None:
        raise errors.InputError(f"jar {resolved.filename} has no Main-Class; set main_class")
    overrides = run.overrides
    conf = {**spec.conf, **(overrides.conf or {}), **extra_conf}
    return launch.LaunchPlan(
        run_id=run.id,
        app_name=f"{run.job}-{run.id}",
        spark_submit=spark_submit,
        master=spec.master or settings.default_master,
        kind=kind,
        main_file=str(_link_into(work_dir, resolved)),
        main_class=main_class,
        args=tuple(effective_args(run, spec)),
        conf=conf,
        driver_cores=spec.driver.cores,
        driver_memory=spec.driver.memory,
        executor_cores=spec.executor.cores,
        executor_memory=spec.executor.memory,
        executor_instances=spec.executor.instances,
        timeout_seconds=spec.timeout_seconds,
    )


def effective_args(run: runs.Run, spec: jobs.JobSpec) -> list[str]:
    """The run's args: its override if it has one, else its job version's."""
    return list(run.overrides.args) if run.overrides.args is not None else list(spec.args)
