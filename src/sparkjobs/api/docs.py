"""Interactive API docs at /docs, served from files vendored in the package.

FastAPI's default /docs page loads Swagger UI from a CDN; a job server often
runs where there is no internet, so the same page is built on local copies
(swagger-ui-dist from the npm registry, see static/swagger/VERSION).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static" / "swagger"
PREFIX = "/api-docs-static"


def install(app: FastAPI) -> None:
    """Serve /docs (Swagger UI over /openapi.json) with no external requests."""
    app.mount(PREFIX, StaticFiles(directory=STATIC), name="api-docs-static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon-32x32.png",
        )
