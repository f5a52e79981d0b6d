"""The real server for CLI end-to-end tests: `sparkjobs serve` as a child process on a free
loopback port, and a helper that runs the `sparkjobs` command against it.

What is missing (the installed command, Spark, Java) skips locally and fails in CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sparkjobs import errors
from sparkjobs.backends import spark_env
from sparkjobs.config import Settings
from tests.support import free_port, require, stop_process, wait_healthy

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CLI = Path(sys.executable).with_name("sparkjobs")
CLI_TOKEN = "cli-e2e-token-3b9c"
#: A spark-submit of a small job takes ~10 s cold; leave room on a busy 2-core machine.
RUN_TIMEOUT = 180


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


def _clean_env(tmp: Path) -> dict[str, str]:
    """The caller's environment without SPARKJOBS_* settings a developer may have set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARKJOBS_")}
    env["PATH"] = f"{CLI.parent}{os.pathsep}{env.get('PATH', '')}"
    env["SPARKJOBS_CONFIG"] = str(tmp / "no-config.toml")
    return env


def _stop_active_runs(url: str) -> None:
    """Leave no Spark process behind, whatever a failed test left running."""
    headers = {"Authorization": f"Bearer {CLI_TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as api:
        for state in ("queued", "starting", "running"):
            for run in api.get("/api/v1/runs", params={"state": state}).json()["items"]:
                api.post(f"/api/v1/runs/{run['id']}/stop")


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliServer]:
    """`sparkjobs serve` with its own data dir; path sources allowed under examples/ and apps/."""
    require(CLI.exists(), f"the sparkjobs command ({CLI})")
    tmp = tmp_path_factory.mktemp("cli-e2e")
    apps_dir, data_dir, log = tmp / "apps", tmp / "data", tmp / "server.log"
    apps_dir.mkdir()
    port = free_port()
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
        wait_healthy(url, proc, log)
        client_env = {**env, "SPARKJOBS_URL": url, "SPARKJOBS_TOKEN": CLI_TOKEN}
        yield CliServer(url=url, data_dir=data_dir, apps_dir=apps_dir, log=log, env=client_env)
        _stop_active_runs(url)
    finally:
        stop_process(proc)
