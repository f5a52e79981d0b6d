"""Fixtures shared by the API tests (test_api_*.py import them): the real app served by
uvicorn on 127.0.0.1 in a thread, the real store on SQLite and PostgreSQL, a FakeBackend
in place of Spark, and an httpx client that sends the admin token. Holds no tests itself.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from sparkjobs.api.app import create_app
from sparkjobs.backends.fake import FakeBackend
from sparkjobs.config import Settings

__all__ = ["api", "apps_dir", "fake", "make_api"]  # the fixtures; import helpers via the module

TOKEN = "test-admin-token"  # the `settings` fixture's admin token
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_UPLOAD = 64 * 1024

ApiFactory = Callable[..., httpx.Client]


class Served:
    """An app served by uvicorn on a loopback port, in a thread, until stop()."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, lifespan="on", log_level="warning", ws="none", http="h11")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, args=([self.sock],), daemon=True)
        self.thread.start()
        wait_for(lambda: self.server.started or not self.thread.is_alive(), what="uvicorn")
        assert self.server.started, "the server did not start; see the log above"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@pytest.fixture
def apps_dir(tmp_path: Path) -> Path:
    """An allowed source directory holding app.py."""
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "app.py").write_text("print('hello')\n")
    return apps


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def make_api(
    settings: Settings, db_url: str, apps_dir: Path, fake: FakeBackend
) -> Iterator[ApiFactory]:
    """make_api(**setting_overrides) -> an httpx client (with the admin token) of a served app."""
    started: list[tuple[Served, httpx.Client]] = []

    def make(**overrides: Any) -> httpx.Client:
        chosen = {
            "database_url": db_url,
            "allowed_source_dirs": [apps_dir],
            "max_upload_bytes": MAX_UPLOAD,
            **overrides,
        }
        served = Served(create_app(settings.model_copy(update=chosen), backends={"local": fake}))
        client = httpx.Client(base_url=served.url, headers=AUTH, timeout=30)
        started.append((served, client))
        return client

    yield make
    for served, client in reversed(started):
        client.close()
        served.stop()


@pytest.fixture
def api(make_api: ApiFactory) -> httpx.Client:
    return make_api()


def job_body(name: str = "hello", apps: Path | None = None, **fields: Any) -> dict[str, Any]:
    source = fields.pop("source", None) or {
        "type": "path",
        "path": str(apps / "app.py") if apps else "",
    }
    return {"name": name, "source": source, **fields}


def wait_for(check: Callable[[], Any], *, what: str, timeout: float = 10.0) -> Any:
    """check()'s first truthy value within timeout seconds; else fail naming what we waited for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["type"], str) and body["type"]
    return body
