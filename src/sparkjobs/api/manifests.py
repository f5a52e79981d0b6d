"""The dry run: the Kubernetes objects a run of a job would create, as YAML.

Made from the job's current spec without fetching anything or touching a
cluster. Artifacts and server paths are read where they are, so their size
decides ConfigMap or download as in a real run; url and git sources show as
downloads from the server (their size is known once a run fetches them).
Secret values never leave the store: placeholders stand in for them, and every
Secret's values print as ***.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path, PurePosixPath

from sparkjobs import envvars, errors, jobs, launch, store
from sparkjobs.api import backends as server_backends
from sparkjobs.backends import kube_manifests as km
from sparkjobs.backends import kubernetes
from sparkjobs.config import Settings
from sparkjobs.inputs import artifacts
from sparkjobs.store import repo
from sparkjobs.supervisor import specs

DRY_RUN_ID = "dry-run"


def render(settings: Settings, db: store.Database, name: str) -> str:
    """The YAML of the objects a run of the job would create, after a comment header."""
    with db.session() as s, tempfile.TemporaryDirectory(prefix="sparkjobs-dry-run-") as tmp:
        job = repo.get_job(s, name)
        plan = dry_run_plan(settings, s, job.spec, Path(tmp))
        try:
            refs = server_backends.job_refs(s, job.spec.bindings)
            objects = kubernetes.manifests_for(job.spec, plan, settings, DRY_RUN_ID, refs=refs)
        except errors.SubmitError as exc:  # what a real run would fail to start with
            raise errors.Invalid(f"a run of job '{name}' could not start: {exc.message}") from exc
    return _header(settings, job) + km.render_yaml(objects)


def _header(settings: Settings, job: jobs.Job) -> str:
    lines = [
        f"# What a run of job {job.name} (version {job.version}) would create on Kubernetes.",
        "# Dry run: nothing was created; Secret values show as ***.",
    ]
    backend = job.spec.backend or settings.default_backend
    if backend != "kubernetes":
        lines.append(f"# The job runs on the '{backend}' backend; this is for backend: kubernetes.")
    return "\n".join(lines) + "\n"


def dry_run_plan(
    settings: Settings, s: store.Session, spec: jobs.JobSpec, work: Path
) -> launch.LaunchPlan:
    """A launch plan like the supervisor's, with the inputs linked into work, unfetched."""
    taken: set[str] = set()

    def placed(sources: list[jobs.Source]) -> tuple[str, ...]:
        return tuple(_placed(settings, s, source, work, taken) for source in sources)

    main = _placed(settings, s, spec.source, work, taken)
    bound = [repo.get_binding(s, name) for name in spec.bindings]
    env, secrets = envvars.resolve(envvars.merge_env(spec.env, bound)[0], _placeholder)
    return launch.LaunchPlan(
        run_id=DRY_RUN_ID,
        app_name=f"{spec.name}-{DRY_RUN_ID}",
        job=spec.name,
        spark_submit="spark-submit",  # the backend uses the image's
        master=spec.master or settings.default_master,
        kind=jobs.kind_of(Path(main).name, spec.kind),
        main_file=main,
        main_class=spec.main_class,
        args=tuple(spec.args),
        conf=dict(spec.conf),
        driver_cores=spec.driver.cores,
        driver_memory=spec.driver.memory,
        executor_cores=spec.executor.cores,
        executor_memory=spec.executor.memory,
        executor_instances=spec.executor.instances,
        files=placed(spec.files),
        py_files=placed(spec.py_files),
        jars=placed(spec.jars),
        packages=tuple(spec.packages),
        env=env,
        secrets=secrets,
        timeout_seconds=spec.timeout_seconds,
    )


def _placeholder(ciphertext: str) -> str:
    """Stands in for a secret value: distinct per secret, and never the value."""
    return f"dry-run-secret-{hashlib.sha256(ciphertext.encode()).hexdigest()[:12]}"


def _placed(
    settings: Settings, s: store.Session, source: jobs.Source, work: Path, taken: set[str]
) -> str:
    """The path the plan names for a source: a link to its file, or (unfetched) just a name."""
    name = PurePosixPath(specs.source_filename(settings, s, source)).name
    if name in taken:
        raise errors.Invalid(f"two inputs of the job are named {name}; rename one of them")
    taken.add(name)
    target = work / name
    local = _local_file(settings, s, source)
    if local is not None:
        target.symlink_to(local)
    return str(target)


def _local_file(settings: Settings, s: store.Session, source: jobs.Source) -> Path | None:
    if isinstance(source, jobs.ArtifactSource):
        return artifacts.artifact_path(settings, repo.get_artifact(s, source.id))
    if isinstance(source, jobs.PathSource):
        path: Path = specs.resolve_path_source(settings, source.path)
        return path
    return None  # url and git sources: fetched when a run starts
