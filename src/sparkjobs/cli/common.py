"""What every command shares: where the server is, how output looks, how errors end."""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sparkjobs.client import ApiError, ClientError, SparkJobsClient

P = ParamSpec("P")
R = TypeVar("R")

# soft_wrap: long messages stay whole lines (copyable commands, parsable output).
out = Console(soft_wrap=True)

err = Console(stderr=True, soft_wrap=True)

#: Statuses that mean the input was wrong: exit 2 like other usage errors.
INPUT_STATUSES = frozenset({400, 413, 422})


@dataclass(frozen=True)
class Target:
    url: str
    token: str | None

    def client(self) -> SparkJobsClient:
        return SparkJobsClient(self.url, self.token)


def config_path() -> Path:
    configured = os.environ.get("SPARKJOBS_CONFIG")
    return Path(configured) if configured else Path.home() / ".config" / "sparkjobs" / "config.toml"


def load_config(path: Path) -> dict[str, str]:
    """The url and token keys of the config file ({} when there is none)."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise typer.BadParameter(f"cannot read config file {path}: {exc}") from exc
    return {k: str(data[k]) for k in ("url", "token") if k in data}


def fail(message: str, *, details: list[str] | None = None, code: int = 1) -> NoReturn:
    err.print(Text(message, style="bold red"))
    for line in details or []:
        err.print(Text(f"  {line}", style="red"))
    raise typer.Exit(code)


def fail_on(exc: ClientError) -> NoReturn:
    if isinstance(exc, ApiError):
        fields = [f"{e['field']}: {e['message']}" for e in exc.errors]
        code = 2 if exc.status in INPUT_STATUSES else 1
        fail(f"{exc.title} ({exc.status}): {exc.detail}", details=fields, code=code)
    fail(str(exc))


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a failed API call into a red message and an exit code instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ClientError as exc:
            fail_on(exc)

    return wrapper


def table_of(*headers: str, title: str | None = None) -> Table:
    """A plain table whose first column (an id or a name) is never cut short."""
    table = Table(box=None, title=title)
    for i, header in enumerate(headers):
        table.add_column(header, no_wrap=i == 0, min_width=12 if i == 0 else None)
    return table


def show(table: Table) -> None:
    # A pipe has no width: print whole rows there, so grep and awk see every field.
    (out if out.is_terminal else Console(width=10_000)).print(table)


def target(ctx: typer.Context) -> Target:
    found = ctx.find_object(Target)
    assert found is not None  # set by main()
    return found
