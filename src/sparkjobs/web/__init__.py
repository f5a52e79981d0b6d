"""The web UI: server-rendered pages (Jinja2) with htmx for the live parts, served at `/`.

Everything it needs is in the package (templates, styles, a vendored htmx), so
the pages work without internet and request nothing from elsewhere.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from sparkjobs.web import (
    deps,
    pages_auth,
    pages_bindings,
    pages_jobform,
    pages_jobs,
    pages_runs,
    pages_schedule,
    render,
)


def install(app: FastAPI) -> None:
    """Serve the pages at / and their files at /static on `app` (made by create_app).

    The pages use app.state.settings, .db and .supervisor, which create_app sets.
    """
    for module in (
        pages_auth,
        pages_jobs,
        pages_jobform,
        pages_runs,
        pages_bindings,
        pages_schedule,
    ):
        app.include_router(module.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=render.STATIC), name="static")
    app.add_exception_handler(deps.SignInRequired, deps.sign_in_required)
    app.add_exception_handler(deps.PageError, deps.page_error)
