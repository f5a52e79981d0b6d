"""Templates and the headers every page carries.

The Content-Security-Policy allows only this server's own scripts, styles and
images: a page cannot load anything from elsewhere, even by mistake.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sparkjobs import runs

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def when(value: datetime | None) -> str:
    """A time as people read it: '2026-11-27 19:40:12 UTC'."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """'12 s ago', '5 min ago', '3 h ago', '2 days ago'."""
    if value is None:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - value).total_seconds()))
    return f"{span(seconds)} ago"


def span(seconds: float) -> str:
    """A duration in its largest sensible unit: '42 s', '3 min 5 s', '2 h 10 min', '3 days'."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} days" if s >= 2 * 86400 else "1 day"


def duration(run: runs.Run, now: datetime | None = None) -> str:
    """How long the run has run (so far, while active); '' before it started."""
    if run.started_at is None:
        return ""
    end = run.finished_at or (now or datetime.now(UTC))
    return span(max(0.0, (end - run.started_at).total_seconds()))


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters.update(when=when, ago=ago, duration=duration)
    env.globals.update(ACTIVE=runs.ACTIVE, TERMINAL=runs.TERMINAL)
    env.trim_blocks = env.lstrip_blocks = True
    return templates


templates = _templates()


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render a template with the security headers."""
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(url: str) -> Response:
    """See other: after a POST the browser GETs the result (a reload does not repeat it)."""
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


def local_path(target: str | None, default: str = "/jobs") -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
