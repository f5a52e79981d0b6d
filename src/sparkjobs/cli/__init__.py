"""The `sparkjobs` command: run the server, and drive it over its API.

The server URL and token come from --url/--token, else SPARKJOBS_URL /
SPARKJOBS_TOKEN, else a TOML file ($SPARKJOBS_CONFIG or
~/.config/sparkjobs/config.toml) with `url` and `token` keys.
Exit codes: 0 success; 1 the server refused or failed (or, with --wait/--follow,
the run did not succeed); 2 bad usage or input.
"""

from __future__ import annotations

from typing import Annotated

import typer

from sparkjobs import client as api_client
from sparkjobs.cli import artifacts, bindings, common, jobs, kubernetes, runs, schedule, serve

app = typer.Typer(
    name="sparkjobs",
    help="Define, run, watch, stop and rerun Spark jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

app.add_typer(jobs.jobs_app, name="jobs")
app.add_typer(runs.runs_app, name="runs")
app.add_typer(artifacts.artifacts_app, name="artifacts")
app.add_typer(bindings.bindings_app, name="bindings")
app.add_typer(kubernetes.kubernetes_app, name="kubernetes")
app.add_typer(schedule.schedule_app, name="schedule")
jobs.jobs_app.command("manifests")(kubernetes.jobs_manifests)
app.command("serve")(serve.serve)
app.command("run")(runs.run_job)
app.command("rerun")(runs.rerun)
app.command("stop")(runs.stop)
app.command("logs")(runs.logs)


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(envvar="SPARKJOBS_URL", metavar="URL", help="server URL", show_default=False),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="SPARKJOBS_TOKEN", metavar="TOKEN", help="API token", show_default=False
        ),
    ] = None,
) -> None:
    """sparkjobs: a Spark job server and its command line."""
    config = common.load_config(common.config_path())
    ctx.obj = common.Target(
        url=url or config.get("url") or api_client.DEFAULT_URL,
        token=token or config.get("token"),
    )
