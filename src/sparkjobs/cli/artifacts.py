"""`sparkjobs artifacts ...`: upload application files and list them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sparkjobs.cli.common import handles_errors, out, show, table_of, target

artifacts_app = typer.Typer(help="Upload and list application files.", no_args_is_help=True)


@artifacts_app.command("upload")
@handles_errors
def artifacts_upload(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False, readable=True)
    ],
) -> None:
    """Upload a .py or .jar; use the printed id as a job's source {type: artifact, id: ...}."""
    with target(ctx).client() as api:
        artifact = api.upload_artifact(file)
    out.print(
        f"{artifact['id']}  {artifact['filename']}  sha256:{artifact['sha256']}", highlight=False
    )


@artifacts_app.command("list")
@handles_errors
def artifacts_list(ctx: typer.Context) -> None:
    """List uploaded artifacts."""
    with target(ctx).client() as api:
        found = api.list_artifacts()
    table = table_of("ID", "FILENAME", "SIZE", "SHA256", "CREATED")
    for a in found:
        table.add_row(a["id"], a["filename"], str(a["size"]), a["sha256"][:16], a["created_at"])
    show(table)
