"""Real `sparkjobs serve` processes firing schedules: a SIGKILL mid-firing, two servers.

Each job fires every second ("* * * * * *", catch_up) on the real clock; a slot
is (job, second), so 50 jobs over 8 seconds are 400 slots. The jobs name the
kubernetes backend, which these servers do not have: the runs are stored and
stay queued, so what is measured is the scheduler alone, not Spark.

"Each slot once" is checked as: for every job, its runs' slots are every second
from its first slot to its last, each exactly once; the seconds while a server
was dead are there too (caught up after the restart, or by the other server).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from sparkjobs.store import Database, repo
from tests.support import free_port

CLI = Path(sys.executable).with_name("sparkjobs")
TOKEN = "schedule-e2e-token-7c1d"
EVERY_SECOND = {"cron": "* * * * * *", "missed_runs": "catch_up", "max_catch_up": 100}


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path


@dataclass
class Cluster:
    """Servers sharing one database, each with its own data dir (so its own instance id)."""

    tmp: Path
    db_url: str
    apps: Path

    def start(self, name: str) -> Server:
        data, log, port = self.tmp / name, self.tmp / f"{name}.log", free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPARKJOBS_")}
        env |= {
            "SPARKJOBS_ADMIN_TOKEN": TOKEN,
            "SPARKJOBS_DATABASE_URL": self.db_url,
            "SPARKJOBS_ALLOWED_SOURCE_DIRS": json.dumps([str(self.apps)]),
            "SPARKJOBS_SCHEDULE_LEASE_SECONDS": "2",
            "SPARKJOBS_SCHEDULER_TICK_SECONDS": "0.2",
        }
        argv = [str(CLI), "serve", "--port", str(port), "--data-dir", str(data)]
        with log.open("ab") as out:
            proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        server = Server(proc, f"http://127.0.0.1:{port}", log)
        _wait_healthy(server)
        return server

    def put_jobs(self, server: Server, count: int) -> list[str]:
        names = [f"tick-{i:03d}" for i in range(count)]
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as api:
            for name in names:
                spec = {
                    "name": name,
                    "source": {"type": "path", "path": str(self.apps / "app.py")},
                    "backend": "kubernetes",  # not on these servers: runs stay queued
                    "schedule": EVERY_SECOND,
                }
                assert api.put(f"/api/v1/jobs/{name}", json=spec).status_code == 201
        return names

    def slots(self, names: list[str]) -> dict[str, list[datetime]]:
        db = Database(self.db_url)
        try:
            with db.session() as s:
                found = {n: repo.list_runs(s, job=n, limit=10_000)[0] for n in names}
        finally:
            db.dispose()
        return {n: [r.scheduled_for for r in rs if r.scheduled_for] for n, rs in found.items()}


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail(
                f"the server exited with {server.proc.returncode}:\n{server.log.read_text()}"
            )
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not become healthy in 60 s:\n{server.log.read_text()}")


def _kill(server: Server, sig: signal.Signals) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(sig)
    try:
        server.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=10)


def _just_after_a_second(offset: float = 0.03) -> None:
    """Sleep until `offset` s past a whole second: when a server is busy firing its slots."""
    now = time.time()
    time.sleep((1 - now % 1) + offset)


def _assert_clean_logs(servers: list[Server]) -> None:
    for server in servers:
        text = server.log.read_text()
        assert "Traceback" not in text, text[-3000:]


def _assert_each_second_once(slots: dict[str, list[datetime]], at_least: int) -> int:
    total = 0
    for name, found in slots.items():
        twice = [slot for slot, n in Counter(found).items() if n > 1]
        assert twice == [], f"{name}: slots fired twice: {twice}"
        ordered = sorted(found)
        assert len(ordered) >= at_least, f"{name}: only {len(ordered)} slots fired"
        gaps = [(a, b) for a, b in pairwise(ordered) if b - a != timedelta(seconds=1)]
        assert gaps == [], f"{name}: slots missing between {gaps}"
        total += len(ordered)
    return total


@pytest.fixture
def apps(tmp_path: Path) -> Path:
    if not CLI.exists():
        pytest.skip(f"the sparkjobs command is not installed ({CLI})")
    folder = tmp_path / "apps"
    folder.mkdir()
    (folder / "app.py").write_text("print('hi')\n")
    return folder


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        _kill(server, signal.SIGKILL)


def test_a_server_killed_while_firing_and_restarted_fires_each_slot_once(
    tmp_path: Path, apps: Path, servers: list[Server]
) -> None:
    cluster = Cluster(tmp_path, f"sqlite:///{tmp_path / 'shared.db'}", apps)
    servers.append(first := cluster.start("one"))
    names = cluster.put_jobs(first, 60)
    time.sleep(3)
    _just_after_a_second()
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=10)
    time.sleep(1.5)  # dead for ~2 slots of each job
    servers.append(again := cluster.start("one"))  # same data dir: same instance id
    time.sleep(3)
    _kill(again, signal.SIGTERM)
    total = _assert_each_second_once(cluster.slots(names), at_least=6)
    assert total >= 60 * 6
    _assert_clean_logs(servers)


def test_two_servers_on_one_postgresql_fire_each_slot_once(
    tmp_path: Path, apps: Path, servers: list[Server], postgres_url: str
) -> None:
    cluster = Cluster(tmp_path, postgres_url, apps)
    servers.append(first := cluster.start("one"))
    servers.append(second := cluster.start("two"))
    names = cluster.put_jobs(first, 50)
    time.sleep(4)
    _just_after_a_second()
    first.proc.send_signal(signal.SIGKILL)  # its leases run out; the other takes over
    first.proc.wait(timeout=10)
    time.sleep(4)
    _kill(second, signal.SIGTERM)
    total = _assert_each_second_once(cluster.slots(names), at_least=6)
    assert total >= 300, f"only {total} slots fired"
    _assert_clean_logs(servers)
