"""`sparkjobs jobs ...`: define jobs from YAML or JSON files, list, show and delete them."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from sparkjobs.cli import schedule
from sparkjobs.cli.common import handles_errors, out, show, table_of, target
from sparkjobs.client import JobOut, SparkJobsClient

jobs_app = typer.Typer(help="Define and manage jobs.", no_args_is_help=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def artifact_for(api: SparkJobsClient, path: Path) -> str:
    """The id of an artifact with the file's name and content, uploading it if there is none.

    Reusing the artifact keeps `jobs apply` of an unchanged file from making a new version.
    """
    sha256 = _sha256(path)
    for artifact in api.list_artifacts():
        if artifact["sha256"] == sha256 and artifact["filename"] == path.name:
            return artifact["id"]
    return api.upload_artifact(path)["id"]


#: Keys of a job spec that hold sources (one, or a list).
SOURCE_KEYS = ("source", "files", "py_files", "jars")


def _uploaded(source: Any, base: Path, upload: Callable[[Path], str]) -> Any:
    """A `{type: file, path}` source as the artifact it was uploaded as; others unchanged."""
    if not (isinstance(source, dict) and source.get("type") == "file"):
        return source
    local = base / str(source.get("path") or "")
    if not local.is_file():
        raise typer.BadParameter(f"file {local} does not exist", param_hint="-f")
    return {"type": "artifact", "id": upload(local)}


def load_spec(path: Path, upload: Callable[[Path], str]) -> dict[str, Any]:
    """The job spec in a YAML or JSON file, its `type: file` sources uploaded via `upload`."""
    try:
        spec = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="-f") from exc
    if not isinstance(spec, dict):
        raise typer.BadParameter(f"{path} must hold a mapping (a job spec)", param_hint="-f")
    for key in SOURCE_KEYS:
        value = spec.get(key)
        if isinstance(value, list):
            spec[key] = [_uploaded(item, path.parent, upload) for item in value]
        elif value is not None:
            spec[key] = _uploaded(value, path.parent, upload)
    return spec


@jobs_app.command("apply")
@handles_errors
def jobs_apply(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Option("--file", "-f", metavar="FILE", help="job.yaml or job.json")
    ],
) -> None:
    """Create a job, or store a new version of it, from a YAML or JSON file.

    For convenience the file may name local files as sources:
    `source: {type: file, path: ./wordcount.py}`, and likewise entries of
    `files`, `py_files` and `jars` (paths relative to the YAML file's
    directory). The CLI uploads each as an artifact (reusing an identical one)
    and sends `{type: artifact, id: ...}` instead. Entries of `files` appear in
    the run's working directory under their own names.
    """
    with target(ctx).client() as api:
        spec = load_spec(file, functools.partial(artifact_for, api))
        job, created = api.apply_job(spec)
    verb = "created" if created else "updated"
    out.print(f"job {job['name']} {verb}: version {job['version']}", highlight=False)


@jobs_app.command("list")
@handles_errors
def jobs_list(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Option(metavar="TEXT", help="only names containing this")
    ] = None,
) -> None:
    """List jobs."""
    with target(ctx).client() as api:
        found = api.list_jobs(name=name)
    table = table_of("NAME", "VERSION", "SOURCE", "UPDATED")
    for job in found:
        source = job["spec"]["source"]
        where = source.get("path") or source.get("id") or source.get("url") or source.get("repo")
        table.add_row(
            job["name"], str(job["version"]), f"{source['type']}:{where}", job["updated_at"]
        )
    show(table)


@jobs_app.command("show")
@handles_errors
def jobs_show(ctx: typer.Context, name: Annotated[str, typer.Argument(metavar="NAME")]) -> None:
    """Show a job's current version as YAML, then its schedule and next runs if it has one."""
    with target(ctx).client() as api:
        job = api.get_job(name)
    out.print(
        f"# {job['name']} version {job['version']}, updated {job['updated_at']}", highlight=False
    )
    out.print(yaml.safe_dump(job["spec"], sort_keys=False), highlight=False, markup=False)
    _show_schedule(job)


def _show_schedule(job: JobOut) -> None:
    info = job.get("schedule_info")
    if not info:
        return
    line = schedule.summary(info["description"], info["suspended"])
    out.print(line, highlight=False, markup=False)
    if info["next_runs"]:
        show(schedule.next_runs_table(info["next_runs"], job["spec"]["schedule"]["timezone"]))
    out.print(f"history: sparkjobs schedule show {job['name']}", highlight=False)


@jobs_app.command("delete")
@handles_errors
def jobs_delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
) -> None:
    """Delete a job with its versions and runs (active runs are stopped first)."""
    if not yes:
        typer.confirm(f"Delete job {name!r}, its versions and its runs?", abort=True)
    with target(ctx).client() as api:
        api.delete_job(name)
    out.print(f"job {name} deleted", highlight=False)
