"""The backend contract, over every backend that runs here, and what only LocalBackend does.

LocalBackend runs the real spark-submit bundled with pyspark; the small Python
applications below start a JVM (spark-submit) but no SparkContext unless they
need one, which keeps each test to a couple of seconds.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sparkjobs import errors
from sparkjobs.backends.base import Backend, Handle, Observation, Status
from sparkjobs.backends.fake import FakeBackend
from sparkjobs.backends.local import LocalBackend
from sparkjobs.config import Settings

EXIT_APP = "import sys\nprint('app says bye', flush=True)\nsys.exit(int(sys.argv[1]))\n"
SLEEP_APP = "import time\nprint('app ready', flush=True)\ntime.sleep(600)\n"
SPARK_SLEEP_APP = """\
import time
from pyspark import SparkContext
sc = SparkContext(appName="sleeper")
print("counted", sc.parallelize(range(1)).count(), flush=True)
time.sleep(600)
"""
ACTIVE = {Status.PENDING, Status.RUNNING}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "wordcount"
WORDCOUNT, WORDCOUNT_SAMPLE = EXAMPLES / "wordcount.py", EXAMPLES / "sample.txt"


def write_app(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(source)
    return path


def wait_done(backend: Backend, handle: Handle, timeout: float = 60) -> Observation:
    """Poll like the supervisor does until the run is no longer active."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = backend.poll(handle)
        if seen.status not in ACTIVE:
            return seen
        time.sleep(0.2)
    pytest.fail(f"the run was still active after {timeout} s")


class Harness:
    """Makes runs of one backend behave as a contract test needs."""

    def __init__(self, backend: Backend, tmp_path: Path, plan: Any) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.plan = plan
        self.count = 0

    def submit(self, main: Path, *args: str) -> tuple[Handle, Path, Path]:
        self.count += 1
        work_dir = self.tmp_path / f"work-{self.count}"
        work_dir.mkdir()
        log = self.tmp_path / "logs" / f"run-{self.count}.log"
        handle = self.backend.submit(self.plan(main, *args), work_dir=work_dir, log_path=log)
        return handle, work_dir, log

    def start_exiting(self, code: int) -> Handle:
        """A run that ends by itself with exit code `code`."""
        handle, _, _ = self.submit(write_app(self.tmp_path, "exit_app.py", EXIT_APP), str(code))
        if isinstance(self.backend, FakeBackend):
            self.backend.finish(handle, code)
        return handle

    def start_sleeping(self) -> Handle:
        """A run that goes on until stopped, up and running when this returns."""
        handle, _, log = self.submit(write_app(self.tmp_path, "sleep_app.py", SLEEP_APP))
        if isinstance(self.backend, LocalBackend):
            deadline = time.monotonic() + 60
            while "app ready" not in (log.read_text() if log.exists() else ""):
                assert time.monotonic() < deadline, "the sleeping app did not start"
                time.sleep(0.1)
        return handle

    def unknown_handle(self) -> Handle:
        if isinstance(self.backend, FakeBackend):
            return {"fake_id": 987654}
        return {
            "pid": 2**22 + 12345,  # above the kernel's pid_max default: never a live process
            "pgid": 2**22 + 12345,
            "start_time": 1,
            "exit_file": str(self.tmp_path / "no-such-exit-file.json"),
            "log_path": str(self.tmp_path / "no-such.log"),
        }


@pytest.fixture(params=[pytest.param("local", marks=pytest.mark.spark), "fake"])
def harness(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings) -> Harness:
    if request.param == "fake":
        return Harness(FakeBackend(), tmp_path, _fake_plan)
    plan = request.getfixturevalue("spark_plan")
    return Harness(LocalBackend(settings), tmp_path, plan)


def _fake_plan(main: Path, *args: str) -> Any:
    from sparkjobs.launch import LaunchPlan

    return LaunchPlan(
        run_id=f"run-{main.stem}", app_name=main.stem, spark_submit="spark-submit",
        master="local[1]", kind="python", main_file=str(main), args=args,
    )  # fmt: skip


# The contract: every backend.


def test_a_run_that_succeeds_is_exited_with_code_0(harness: Harness) -> None:
    handle = harness.start_exiting(0)
    seen = wait_done(harness.backend, handle)
    assert (seen.status, seen.exit_code) == (Status.EXITED, 0)


def test_the_application_exit_code_comes_back(harness: Harness) -> None:
    handle = harness.start_exiting(3)
    seen = wait_done(harness.backend, handle)
    assert (seen.status, seen.exit_code) == (Status.EXITED, 3)
    assert seen.message and "3" in seen.message


def test_stop_ends_a_running_run(harness: Harness) -> None:
    handle = harness.start_sleeping()
    assert harness.backend.poll(handle).status == Status.RUNNING
    harness.backend.stop(handle)
    seen = wait_done(harness.backend, handle, timeout=30)
    assert (seen.status, seen.exit_code) == (Status.EXITED, 128 + signal.SIGTERM)


def test_stop_is_idempotent(harness: Harness) -> None:
    handle = harness.start_sleeping()
    harness.backend.stop(handle)
    harness.backend.stop(handle)
    harness.backend.stop(handle, force=True)
    seen = wait_done(harness.backend, handle, timeout=30)
    assert seen.status == Status.EXITED and seen.exit_code in {137, 143}
    harness.backend.stop(handle)
    harness.backend.stop(handle, force=True)
    assert harness.backend.poll(handle) == seen


def test_an_unknown_handle_is_not_found(harness: Harness) -> None:
    handle = harness.unknown_handle()
    assert harness.backend.poll(handle).status == Status.NOT_FOUND
    harness.backend.stop(handle)
    harness.backend.stop(handle, force=True)
    harness.backend.cleanup(handle, work_dir=harness.tmp_path / "never-made")


def test_cleanup_removes_the_work_dir_and_keeps_the_log(harness: Harness) -> None:
    handle, work_dir, log = harness.submit(write_app(harness.tmp_path, "a.py", EXIT_APP), "0")
    if isinstance(harness.backend, FakeBackend):
        harness.backend.finish(handle, 0)
    wait_done(harness.backend, handle)
    harness.backend.cleanup(handle, work_dir=work_dir)
    harness.backend.cleanup(handle, work_dir=work_dir)
    assert not work_dir.exists()
    assert log.read_text()


# LocalBackend only.


def test_submit_refuses_a_missing_spark_submit(settings: Settings, tmp_path: Path) -> None:
    plan = _fake_plan(write_app(tmp_path, "a.py", EXIT_APP))
    plan = type(plan)(**{**vars(plan), "spark_submit": str(tmp_path / "bin" / "spark-submit")})
    with pytest.raises(errors.SubmitError, match="spark-submit not found"):
        LocalBackend(settings).submit(plan, work_dir=tmp_path, log_path=tmp_path / "log")


@pytest.mark.spark
def test_submit_refuses_a_missing_application(
    settings: Settings, tmp_path: Path, spark_plan: Callable[..., Any]
) -> None:
    plan = spark_plan(tmp_path / "missing.py")
    with pytest.raises(errors.SubmitError, match=r"missing\.py does not exist"):
        LocalBackend(settings).submit(plan, work_dir=tmp_path, log_path=tmp_path / "log")


@pytest.mark.spark
def test_wordcount_runs_and_reports_its_app_id_and_ui(
    settings: Settings, tmp_path: Path, spark_plan: Callable[..., Any]
) -> None:
    # Ask the driver's UI for the app id at once (the server waits 20 s by default).
    backend = LocalBackend(settings.model_copy(update={"local_app_id_delay_seconds": 0.0}))
    log = tmp_path / "wordcount.log"
    plan = spark_plan(WORDCOUNT, str(WORDCOUNT_SAMPLE), master="local[2]")
    handle = backend.submit(plan, work_dir=tmp_path, log_path=log)
    seen = wait_done(backend, handle)
    text = log.read_text()
    assert (seen.status, seen.exit_code) == (Status.EXITED, 0), text[-3000:]
    assert "job: 2388" in text and "spark: 1171" in text
    assert seen.spark_app_id and re.fullmatch(r"local-\d{13}", seen.spark_app_id)
    assert seen.spark_ui_url and re.fullmatch(r"http://127\.0\.0\.1:\d+", seen.spark_ui_url)
