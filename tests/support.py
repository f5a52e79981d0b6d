"""Helpers every test layer shares: the CI rule for missing components, free ports,
a server that is up, an injected clock, a launcher that runs inline, Chromium's flags.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

CHROMIUM = Path("/usr/bin/chromium")
#: Debian's Chromium as root, headless, with no background traffic (the network is closed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def require(available: bool, what: str) -> None:
    """Skip (locally) or fail (in CI) when a component the test needs is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but missing", pytrace=False)
    pytest.skip(f"{what} not available on this machine")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(
    url: str, proc: subprocess.Popen[bytes], log: Path, *, timeout: float = 60
) -> None:
    """Wait (bounded) until a server started as `proc` answers /healthz; fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not become healthy within {timeout} s:\n{log.read_text()}")


def stop_active_runs(url: str, token: str) -> None:
    """Leave no Spark process behind, whatever a failed test left running."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as api:
        for state in ("queued", "starting", "running"):
            for run in api.get("/api/v1/runs", params={"state": state}).json()["items"]:
                api.post(f"/api/v1/runs/{run['id']}/stop")


def stop_process(proc: subprocess.Popen[bytes], *, grace: float = 30) -> None:
    """SIGTERM, then SIGKILL if it has not ended within the grace period."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@dataclass
class Clock:
    """A clock the test moves by hand, so time-based paths run without sleeping."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **more: float) -> None:
        """Move on by seconds, and by any other timedelta unit given (minutes=..., days=...)."""
        self.now += timedelta(seconds=seconds, **more)

    def epoch(self) -> float:
        return self.now.timestamp()

    def stamp(self) -> str:
        """The time as Kubernetes writes it (creationTimestamp)."""
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")


class InlineLauncher(Executor):
    """Launches on the calling thread, so that one tick() is one deterministic step."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1 that keeps what it is sent.

    It answers the planned `statuses` in order (204 once they run out), after
    `delay_s`; `received` is set after each answer. Use it as a context manager.
    """

    def __init__(self, path: str = "hooks/SECRET-PATH-TOKEN") -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.statuses: list[int] = []
        self.delay_s = 0.0
        self.received = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/{path}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.headers.append(dict(self.headers))
                time.sleep(hook.delay_s)
                self.send_response(hook.statuses.pop(0) if hook.statuses else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                hook.received.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
