"""The store's pure helpers: page cursors, artifact references, ids, UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from sparkjobs import errors
from sparkjobs.store import _cursor
from sparkjobs.store._jobs import uses_artifact
from sparkjobs.store.coltypes import UTCDateTime
from sparkjobs.store.ids import new_run_id

AT = datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC)


def test_cursor_round_trips_time_and_id_and_is_url_safe() -> None:
    cursor = _cursor.encode(AT, "0123456789ab")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert _cursor.decode(cursor) == (AT, "0123456789ab")


@pytest.mark.parametrize(
    "bad",
    [
        "%%%",
        "bm90IGpzb24",  # not json
        "WyIyMDI2LTAzLTAxVDEyOjAwOjAwIiwgImEiXQ",  # naive time
        "WyIyMDI2LTAzLTAxVDEyOjAwOjAwKzAwOjAwIiwgMV0",  # id is not a string
        "WyJ4Il0",  # one item
    ],
)
def test_cursor_refuses_anything_encode_did_not_make(bad: str) -> None:
    with pytest.raises(errors.Invalid, match="cursor is not valid"):
        _cursor.decode(bad)


@pytest.mark.parametrize(
    ("spec", "used"),
    [
        ({"source": {"type": "artifact", "id": "a1"}}, True),
        ({"source": {"type": "artifact", "id": "a2"}}, False),
        ({"source": {"type": "path", "path": "/a1"}}, False),
        ({"source": None, "files": [{"type": "artifact", "id": "a1"}]}, True),
        (
            {"source": None, "py_files": ["x.py", {"source": {"type": "artifact", "id": "a1"}}]},
            True,
        ),
        ({"source": None, "jars": "not a list"}, False),
        # Only sources and file lists count, not a label that happens to look alike.
        ({"source": None, "labels": {"type": "artifact", "id": "a1"}}, False),
    ],
)
def test_uses_artifact(spec: dict[str, Any], used: bool) -> None:
    assert uses_artifact(spec, "a1") is used


def test_run_ids_are_12_lowercase_hex_and_differ() -> None:
    ids = {new_run_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)


def test_utc_datetime_stores_utc_and_reads_back_aware() -> None:
    column = UTCDateTime()
    plus_two = AT.astimezone(timezone(timedelta(hours=2)))
    lite, pg = sqlite.dialect(), postgresql.dialect()
    assert column.process_bind_param(plus_two, lite) == AT.replace(tzinfo=None)
    assert column.process_bind_param(plus_two, pg) == AT
    assert column.process_result_value(AT.replace(tzinfo=None), lite) == AT
    back = column.process_result_value(plus_two, pg)
    assert back == AT and back is not None and back.tzinfo is UTC
    assert column.process_bind_param(None, pg) is None


def test_utc_datetime_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), sqlite.dialect())
