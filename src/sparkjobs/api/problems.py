"""Errors as application/problem+json (RFC 9457).

Every error a client sees has the same shape: ``type`` (a URN naming the
error), ``title``, ``status``, ``detail`` (what was wrong and what to do) and,
for invalid input, ``errors``: one ``{"field", "message"}`` per bad field.
"""

from __future__ import annotations

import http
import logging
import re
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from sparkjobs import errors, jobs

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"

#: Most specific first: UploadTooLarge is an Invalid that is not a 422.
_STATUS: tuple[tuple[type[errors.SparkJobsError], int], ...] = (
    (errors.UploadTooLarge, 413),
    (errors.Invalid, 422),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Unauthorized, 401),
)
#: Discriminator values of source types; pydantic puts them in error locations.
_SOURCE_TAGS = frozenset(
    m.model_fields["type"].default for m in typing.get_args(typing.get_args(jobs.Source)[0])
)


def problem(
    status: int,
    detail: str,
    *,
    type_: str = "about:blank",
    title: str | None = None,
    field_errors: Sequence[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
    }
    if field_errors is not None:
        body["errors"] = list(field_errors)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def status_of(exc: errors.SparkJobsError) -> int:
    return next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Z][a-z0-9]*", name)


def from_error(exc: errors.SparkJobsError) -> JSONResponse:
    words = _words(type(exc).__name__)
    status = status_of(exc)
    field = getattr(exc, "field", None)
    return problem(
        status,
        exc.message,
        type_="urn:sparkjobs:problem:" + "-".join(w.lower() for w in words),
        title=" ".join(words).capitalize(),
        field_errors=[{"field": field, "message": exc.message}] if field else None,
        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
    )


def field_path(loc: Sequence[int | str]) -> str:
    """'body.source.path.path' -> 'source.path': no 'body' prefix, no union tags."""
    parts = list(loc[1:]) if loc and loc[0] in {"body", "query", "path", "header"} else list(loc)
    kept = [
        p
        for i, p in enumerate(parts)
        if not (i > 0 and parts[i - 1] == "source" and p in _SOURCE_TAGS and i < len(parts) - 1)
    ]
    return ".".join(str(p) for p in kept) or "body"


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    field_errors = [{"field": field_path(e["loc"]), "message": str(e["msg"])} for e in exc.errors()]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in field_errors[:5])
    return problem(
        422,
        f"the request is not valid ({summary}); fix the fields listed in 'errors'",
        type_="urn:sparkjobs:problem:validation",
        title="Invalid request",
        field_errors=field_errors,
    )


def _sparkjobs(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.SparkJobsError)
    if status_of(exc) >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    return from_error(exc)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, str(exc.detail), headers=exc.headers)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The details go to the server log, never to the client.
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return problem(
        500, "the server failed to handle this request; the admin can see why in its log"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(errors.SparkJobsError, _sparkjobs)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
