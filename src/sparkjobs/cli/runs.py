"""Run commands: `run`, `rerun`, `stop`, `logs` and `sparkjobs runs list|show`."""

from __future__ import annotations

import json
import sys
from typing import Annotated, NoReturn

import typer
from rich.text import Text

from sparkjobs.cli.common import err, handles_errors, out, show, table_of, target
from sparkjobs.client import RunOut, SparkJobsClient

runs_app = typer.Typer(help="List and inspect runs.", no_args_is_help=True)

ArgOption = Annotated[
    list[str] | None,
    typer.Option(
        "--arg", metavar="ARG", help="an application argument (repeat; replaces the job's args)"
    ),
]

ConfOption = Annotated[
    list[str] | None,
    typer.Option("--conf", metavar="KEY=VALUE", help="Spark conf KEY=VALUE for this run (repeat)"),
]

EnvOption = Annotated[
    list[str] | None,
    typer.Option(
        "--env",
        metavar="NAME=VALUE",
        help="an environment variable for this run (repeat; plain values: put secrets in the "
        "job or a binding, not on a command line)",
    ),
]

WaitOption = Annotated[bool, typer.Option(help="wait for the run to end; exit code follows it")]

FollowOption = Annotated[bool, typer.Option(help="stream the log until the run ends")]


def parse_conf(items: list[str] | None, option: str = "--conf") -> dict[str, str] | None:
    if not items:
        return None
    pairs = [item.partition("=") for item in items]
    bad = [item for item, (key, sep, _) in zip(items, pairs, strict=True) if not key or not sep]
    if bad:
        raise typer.BadParameter(f"expected KEY=VALUE, got {bad[0]!r}", param_hint=option)
    return {key: value for key, _, value in pairs}


def parse_env(items: list[str] | None) -> list[dict[str, str]] | None:
    """--env NAME=VALUE options as the API's env entries (the server checks the names)."""
    pairs = parse_conf(items, "--env")
    return None if pairs is None else [{"name": k, "value": v} for k, v in pairs.items()]


def outcome(run: RunOut) -> NoReturn:
    """Print how the run ended; exit 0 if it succeeded, 1 otherwise."""
    succeeded = run["state"] == "succeeded"
    parts = [f"run {run['id']} {run['state']}"]
    if run["exit_code"] is not None:
        parts.append(f"exit code {run['exit_code']}")
    if run["reason"] and not succeeded:
        parts.append(run["reason"])
    err.print(Text(", ".join(parts), style="green" if succeeded else "red"))
    raise typer.Exit(0 if succeeded else 1)


def watch(api: SparkJobsClient, run: RunOut, *, wait: bool, follow: bool) -> None:
    """Without --wait/--follow print the run's id; else see it to its end and exit by it."""
    err.print(f"run {run['id']} of {run['job']} v{run['job_version']}: {run['state']}")
    if not (wait or follow):
        out.print(run["id"], highlight=False)
        err.print(f"follow it with: sparkjobs logs {run['id']} --follow")
        return
    if follow:
        for chunk in api.follow_logs(run["id"]):
            sys.stdout.write(chunk)
            sys.stdout.flush()
        outcome(api.wait(run["id"]))
    with err.status(f"run {run['id']}: {run['state']}") as status:
        final = api.wait(
            run["id"], on_change=lambda r: status.update(f"run {r['id']}: {r['state']}")
        )
    outcome(final)


@handles_errors
def run_job(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(metavar="JOB")],
    arg: ArgOption = None,
    conf: ConfOption = None,
    env: EnvOption = None,
    wait: WaitOption = False,
    follow: FollowOption = False,
) -> None:
    """Run a job now. Arguments reach the application verbatim (no shell sees them)."""
    with target(ctx).client() as api:
        run = api.run(job, args=arg, conf=parse_conf(conf), env=parse_env(env))
        watch(api, run, wait=wait, follow=follow)


@handles_errors
def rerun(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN")],
    arg: ArgOption = None,
    conf: ConfOption = None,
    env: EnvOption = None,
    wait: WaitOption = False,
    follow: FollowOption = False,
) -> None:
    """Run the same job version again, with the same overrides unless given here."""
    with target(ctx).client() as api:
        run = api.rerun(run_id, args=arg, conf=parse_conf(conf), env=parse_env(env))
        watch(api, run, wait=wait, follow=follow)


@handles_errors
def stop(ctx: typer.Context, run_id: Annotated[str, typer.Argument(metavar="RUN")]) -> None:
    """Ask a run to stop."""
    with target(ctx).client() as api:
        run = api.stop(run_id)
    out.print(f"run {run['id']}: {run['state']}", highlight=False)


@handles_errors
def logs(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN")],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="keep printing until the run ends")
    ] = False,
    tail: Annotated[
        int | None, typer.Option(metavar="N", min=0, help="only the last N lines")
    ] = None,
) -> None:
    """Print a run's log (spark-submit's output)."""
    with target(ctx).client() as api:
        if not follow:
            sys.stdout.write(api.logs(run_id, tail=tail))
            return
        for chunk in api.follow_logs(run_id, tail=tail):
            sys.stdout.write(chunk)
            sys.stdout.flush()


@runs_app.command("list")
@handles_errors
def runs_list(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option(metavar="JOB", help="only this job's runs")] = None,
    state: Annotated[
        list[str] | None, typer.Option(metavar="STATE", help="only runs in this state (repeat)")
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", min=1, max=500)] = 20,
) -> None:
    """List runs, newest first."""
    with target(ctx).client() as api:
        page = api.list_runs(job=job, states=state, limit=limit)
    table = table_of("ID", "JOB", "VERSION", "STATE", "TRIGGER", "EXIT", "CREATED", "REASON")
    for r in page["items"]:
        exit_code = "" if r["exit_code"] is None else str(r["exit_code"])
        row = (r["id"], r["job"], str(r["job_version"]), r["state"], r["trigger"], exit_code)
        table.add_row(*row, r["created_at"], r["reason"] or "")
    show(table)


@runs_app.command("show")
@handles_errors
def runs_show(ctx: typer.Context, run_id: Annotated[str, typer.Argument(metavar="RUN")]) -> None:
    """Show a run and its state changes."""
    with target(ctx).client() as api:
        run = api.get_run(run_id)
        events = api.events(run_id)
    for key, value in run.items():
        shown = json.dumps(value) if isinstance(value, list | dict) else value
        out.print(f"{key + ':':15} {'' if value is None else shown}", highlight=False, markup=False)
    table = table_of("AT", "FROM", "TO", "REASON", title="events")
    for e in events:
        table.add_row(e["at"], e["from_state"] or "", e["to_state"], e["reason"])
    show(table)
