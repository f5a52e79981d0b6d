"""`sparkjobs jobs manifests JOB` (the dry run) and `sparkjobs kubernetes services`."""

from __future__ import annotations

from typing import Annotated

import typer

from sparkjobs.cli.common import handles_errors, show, table_of, target

kubernetes_app = typer.Typer(
    help="Look at the Kubernetes cluster runs go to.", no_args_is_help=True
)


@handles_errors
def jobs_manifests(
    ctx: typer.Context, name: Annotated[str, typer.Argument(metavar="NAME")]
) -> None:
    """Print, as YAML, the Kubernetes objects a run of the job would create.

    A dry run: nothing is created and no cluster is needed. Secret values show as ***.
    Save it and check it with `kubectl apply --dry-run=server -f FILE` if you like.
    """
    with target(ctx).client() as api:
        text = api.job_manifests(name)
    typer.echo(text, nl=False)  # verbatim: a console would style or wrap YAML


@kubernetes_app.command("services")
@handles_errors
def services(
    ctx: typer.Context,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", metavar="NS", help="default: the server's namespace"),
    ] = None,
) -> None:
    """List the Services a binding can point at."""
    with target(ctx).client() as api:
        found = api.kubernetes_services(namespace)
    table = table_of("NAME", "NAMESPACE", "PORTS")
    for svc in found:
        ports = ", ".join(
            f"{p['name'] + '=' if p.get('name') else ''}{p['port']}/{p['protocol']}"
            for p in svc["ports"]
        )
        table.add_row(svc["name"], svc["namespace"], ports or "-")
    show(table)
