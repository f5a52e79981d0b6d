"""The real server for CLI end-to-end tests: `sparkjobs serve` as a child process on a free
loopback port, and a helper that runs the `sparkjobs` command against it.

What is missing (the installed command, Spark, Java) skips locally and fails in CI.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sparkjobs import errors
from sparkjobs.backends import spark_env
from sparkjobs.config import Settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CLI = Path(sys.executable).with_name("sparkjobs")
CLI_TOKEN = "cli-e2e-token-3b9c"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
#: A spark-submit of a small job takes ~10 s cold; leave room on a busy 2-core machine.
RUN_TIMEOUT = 180


def require(available: bool, what: str) -> None:
    """Skip (locally) or fail (in CI) when something the test needs is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but missing", pytrace=False)
    pytest.skip(f"{what} not available on this machine")


@pytest.fixture(scope="session")
def spark_available(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Spark and Java 17+ as the server finds them (skips/fails when missing)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("spark-check"))
    try:
        spark_env.find_spark_home(settings)
        spark_env.find_java(settings)
    except (errors.SparkNotFound, errors.JavaNotFound) as exc:
        require(False, f"Spark and Java ({exc.message})")


@dataclass(frozen=True)
class CliServer:
    url: str
    data_dir: Path
    apps_dir: Path
    log: Path
    env: dict[str, str]

    def cli(self, *args: str, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run `sparkjobs ARGS` against this server (never through a shell)."""
        return subprocess.run(
            [str(CLI), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env(tmp: Path) -> dict[str, str]:
    """The caller's environment without SPARKJOBS_* settings a developer may have set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARKJOBS_")}
    env["PATH"] = f"{CLI.parent}{os.pathsep}{env.get('PATH', '')}"
    env["SPARKJOBS_CONFIG"] = str(tmp / "no-config.toml")
    return env


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not become healthy within 60 s:\n{log.read_text()}")


def _stop_active_runs(url: str) -> None:
    """Leave no Spark process behind, whatever a failed test left running."""
    headers = {"Authorization": f"Bearer {CLI_TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as api:
        for state in ("queued", "starting", "running"):
            for run in api.get("/api/v1/runs", params={"state": state}).json()["items"]:
                api.post(f"/api/v1/runs/{run['id']}/stop")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliServer]:
    """`sparkjobs serve` with its own data dir; path sources allowed under examples/ and apps/."""
    require(CLI.exists(), f"the sparkjobs command ({CLI})")
    tmp = tmp_path_factory.mktemp("cli-e2e")
    apps_dir, data_dir, log = tmp / "apps", tmp / "data", tmp / "server.log"
    apps_dir.mkdir()
    port = _free_port()
    env = _clean_env(tmp)
    server_env = {
        **env,
        "SPARKJOBS_ADMIN_TOKEN": CLI_TOKEN,
        "SPARKJOBS_ALLOWED_SOURCE_DIRS": json.dumps([str(EXAMPLES), str(apps_dir)]),
        "SPARKJOBS_POLL_INTERVAL_SECONDS": "0.2",
        "SPARKJOBS_STOP_GRACE_SECONDS": "5",
    }
    argv = [str(CLI), "serve", "--port", str(port), "--data-dir", str(data_dir)]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=server_env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        client_env = {**env, "SPARKJOBS_URL": url, "SPARKJOBS_TOKEN": CLI_TOKEN}
        yield CliServer(url=url, data_dir=data_dir, apps_dir=apps_dir, log=log, env=client_env)
        _stop_active_runs(url)
    finally:
        _stop(proc)
