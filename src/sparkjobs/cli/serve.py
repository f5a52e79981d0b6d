"""`sparkjobs serve`: migrate, make sure an admin token exists (showing a new one once), serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sparkjobs.cli.common import out


def serve(
    host: Annotated[
        str | None, typer.Option(metavar="HOST", help="interface to bind (default 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="port (default 8080)")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(metavar="DIR", help="database, logs, artifacts")
    ] = None,
) -> None:
    """Run the server (settings from SPARKJOBS_* variables; these options override them)."""
    import uvicorn

    from sparkjobs.api import app as api_app
    from sparkjobs.api import auth
    from sparkjobs.config import Settings

    chosen: dict[str, Any] = {"host": host, "port": port, "data_dir": data_dir}
    settings = Settings(**{k: v for k, v in chosen.items() if v is not None})
    db = api_app.open_database(settings)
    try:
        new_token = auth.ensure_admin_token(settings, db)
    finally:
        db.dispose()
    host_part = f"[{settings.host}]" if ":" in settings.host else settings.host
    base = f"http://{host_part}:{settings.port}"
    out.print(f"sparkjobs serving at {base} (API docs: {base}/docs)", highlight=False)
    if new_token:
        out.print(f"Admin token (shown once, keep it): {new_token}", highlight=False)
        out.print(
            f"Use it:  export SPARKJOBS_URL={base} SPARKJOBS_TOKEN={new_token}", highlight=False
        )
    elif settings.admin_token is None:
        out.print(
            "Sign in with the admin token shown when this server first started. Lost it? "
            "Restart with SPARKJOBS_ADMIN_TOKEN=<a new secret> to replace it.",
            highlight=False,
        )
    uvicorn.run(api_app.create_app(settings), host=settings.host, port=settings.port)
