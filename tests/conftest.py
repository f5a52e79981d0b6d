"""Fixtures shared by every test layer.

Components that may be missing on a developer's machine (PostgreSQL, Chromium)
skip there with a reason; with CI=true a missing component fails the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sparkjobs.config import Settings
from tests.support import require


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with every directory under the test's tmp_path and a fast supervisor."""
    return Settings(
        data_dir=tmp_path / "data",
        admin_token="test-admin-token",  # type: ignore[arg-type]
        poll_interval_seconds=0.1,
        stop_grace_seconds=5.0,
    )


@pytest.fixture(scope="session")
def postgres_server_url() -> str | None:
    return os.environ.get("SPARKJOBS_TEST_POSTGRES_URL")


@pytest.fixture
def postgres_url(postgres_server_url: str | None) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    require(postgres_server_url is not None, "PostgreSQL (SPARKJOBS_TEST_POSTGRES_URL)")
    assert postgres_server_url is not None
    import sqlalchemy as sa

    name = f"sparkjobs_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(postgres_server_url).set(database=name)
        yield url.render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage or API test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("postgres_url"))
