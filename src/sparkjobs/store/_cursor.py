"""Opaque page cursors: the sort key of the last item of a page, for keyset paging."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from sparkjobs import errors


def encode(at: datetime, item_id: str) -> str:
    raw = json.dumps([at.isoformat(), item_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, str]:
    """The (time, id) a cursor holds. Raises Invalid for anything encode() did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, item_id = json.loads(raw)
        parsed = datetime.fromisoformat(at)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise _invalid() from exc
    if parsed.tzinfo is None or not isinstance(item_id, str):
        raise _invalid()
    return parsed, item_id


def _invalid() -> errors.Invalid:
    return errors.Invalid(
        "the page cursor is not valid; pass the cursor the previous page returned, "
        "or none for the first page",
        field="cursor",
    )
