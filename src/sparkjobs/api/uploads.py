"""Receiving one uploaded file from a multipart request without trusting its size.

The request body is cut off once it exceeds the limit (plus room for the
multipart framing), whatever Content-Length claims, so an oversize upload
costs at most the limit in temporary space and is then thrown away.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from sparkjobs import errors
from sparkjobs.inputs import artifacts

#: Room for boundaries and part headers around the file's bytes.
FRAMING_BYTES = 64 * 1024

#: How the upload looks in the OpenAPI document (the route parses the body itself).
OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


async def _capped(
    stream: AsyncIterator[bytes], cap: int, limit: int
) -> AsyncGenerator[bytes, None]:
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > cap:
            raise artifacts.too_large(limit)
        yield chunk


def _check_headers(request: Request, cap: int, limit: int) -> None:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise errors.Invalid(
            "send the file as multipart/form-data in the field 'file' (curl -F file=@app.py ...)",
            field="file",
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise artifacts.too_large(limit)


@contextlib.asynccontextmanager
async def single_file(
    request: Request, limit: int, field: str = "file"
) -> AsyncIterator[UploadFile]:
    """The uploaded file in `field`, spooled; closed (and its spool removed) on exit."""
    cap = limit + FRAMING_BYTES
    _check_headers(request, cap, limit)
    stream = _capped(request.stream(), cap, limit)
    parser = MultiPartParser(request.headers, stream, max_files=1, max_fields=16)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise errors.Invalid(
            f"the multipart body is not valid: {exc.message}", field=field
        ) from exc
    try:
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            raise errors.Invalid(f"no file in the form field '{field}'", field=field)
        yield upload
    finally:
        await form.close()
