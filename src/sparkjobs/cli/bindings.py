"""`sparkjobs bindings ...`: named sets of variables for services that jobs list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from sparkjobs.cli.common import handles_errors, out, show, table_of, target

bindings_app = typer.Typer(
    help="Manage service bindings (variables that jobs list).", no_args_is_help=True
)

KEEP_HINT = (
    "# secrets are never shown; to keep one when applying this file, "
    "write 'keep: true' in place of 'secret: set'"
)


def load_binding(path: Path) -> dict[str, Any]:
    """The binding in a YAML or JSON file."""
    try:
        binding = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="-f") from exc
    if not isinstance(binding, dict):
        raise typer.BadParameter(f"{path} must hold a mapping (a binding)", param_hint="-f")
    return binding


def _shown(env: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in var.items() if v is not None} for var in env]


@bindings_app.command("apply")
@handles_errors
def bindings_apply(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Option("--file", "-f", metavar="FILE", help="binding.yaml or binding.json")
    ],
) -> None:
    """Create a binding, or replace it, from a YAML or JSON file.

    The file holds name, description and env: a list of {name, value} or
    {name, secret}; {name, keep: true} keeps a secret stored before.
    """
    with target(ctx).client() as api:
        binding, created = api.apply_binding(load_binding(file))
    verb = "created" if created else "updated"
    out.print(f"binding {binding['name']} {verb}", highlight=False)


@bindings_app.command("list")
@handles_errors
def bindings_list(ctx: typer.Context) -> None:
    """List bindings with the names of their variables."""
    with target(ctx).client() as api:
        found = api.list_bindings()
    table = table_of("NAME", "VARIABLES", "DESCRIPTION")
    for b in found:
        names = ", ".join(v["name"] + (" (secret)" if v.get("secret") else "") for v in b["env"])
        table.add_row(b["name"], names, b["description"])
    show(table)


@bindings_app.command("show")
@handles_errors
def bindings_show(ctx: typer.Context, name: Annotated[str, typer.Argument(metavar="NAME")]) -> None:
    """Show a binding as YAML (secrets show as set, never their values)."""
    with target(ctx).client() as api:
        binding = api.get_binding(name)
    shown = {k: v for k, v in binding.items() if v is not None}
    shown["env"] = _shown(binding["env"])
    out.print(KEEP_HINT, highlight=False, markup=False)
    out.print(yaml.safe_dump(shown, sort_keys=False), highlight=False, markup=False)


@bindings_app.command("delete")
@handles_errors
def bindings_delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    force: Annotated[
        bool, typer.Option("--force", help="delete even if jobs list it (their runs fail)")
    ] = False,
) -> None:
    """Delete a binding (refused while jobs list it, unless --force)."""
    with target(ctx).client() as api:
        api.delete_binding(name, force=force)
    out.print(f"binding {name} deleted", highlight=False)
