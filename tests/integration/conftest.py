"""Fixtures for tests that run real Spark: where Spark and Java are, launch plans,
a standalone cluster on loopback, and a look at the processes a run leaves.

What is missing skips locally and fails in CI (the same rule as tests/conftest.py's require).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sparkjobs import errors
from sparkjobs.backends import spark_env as spark_env_module
from sparkjobs.config import Settings
from sparkjobs.launch import LaunchPlan
from tests.support import free_port, require

REPO = Path(__file__).resolve().parents[2]
WORDCOUNT = REPO / "examples" / "wordcount" / "wordcount.py"
WORDCOUNT_SAMPLE = REPO / "examples" / "wordcount" / "sample.txt"


@dataclass(frozen=True)
class SparkEnv:
    spark_home: Path
    java: spark_env_module.JavaRuntime
    settings: Settings

    @property
    def spark_submit(self) -> str:
        return str(self.spark_home / "bin" / "spark-submit")


@pytest.fixture(scope="session")
def spark_env(tmp_path_factory: pytest.TempPathFactory) -> SparkEnv:
    """Spark and a Java 17+ as the server would find them (skips/fails when missing)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("spark-env"))
    try:
        home = spark_env_module.find_spark_home(settings)
        java = spark_env_module.find_java(settings)
    except (errors.SparkNotFound, errors.JavaNotFound) as exc:
        require(False, f"Spark and Java ({exc.message})")
        raise
    return SparkEnv(spark_home=home, java=java, settings=settings)


PlanFactory = Callable[..., LaunchPlan]


@pytest.fixture
def spark_plan(spark_env: SparkEnv, settings: Settings) -> PlanFactory:
    """make(main_file, *args, master="local[1]", **fields) -> a LaunchPlan for a local driver."""
    counter = iter(range(1, 1000))

    def make(
        main_file: Path | str, *args: str, master: str = "local[1]", **fields: object
    ) -> LaunchPlan:
        conf = {**spark_env_module.loopback_conf(settings), "spark.ui.showConsoleProgress": "false"}
        conf.update(fields.pop("conf", {}))  # type: ignore[call-overload]
        return LaunchPlan(
            run_id=f"run-{next(counter)}",
            app_name=Path(str(main_file)).stem,
            spark_submit=spark_env.spark_submit,
            master=master,
            kind="python",
            main_file=str(main_file),
            args=tuple(args),
            conf=conf,
            **fields,  # type: ignore[arg-type]
        )

    return make


def wait_for(
    check: Callable[[], object], *, timeout: float, what: str, every: float = 0.1
) -> object:
    """check()'s first truthy value within timeout seconds, else fail saying what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def waiter() -> Callable[..., object]:
    return wait_for


def processes_in_session(sid: int) -> list[str]:
    """'pid cmdline' of every live process in session sid, read straight from /proc."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_comm = stat_file.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat_file.parent / "cmdline").read_bytes().replace(b"\0", b" ")
        except (FileNotFoundError, ProcessLookupError):
            continue
        state, session = after_comm[0], int(after_comm[3])
        if session == sid and state != "Z":
            found.append(f"{stat_file.parent.name} {cmdline.decode(errors='replace')[:200]}")
    return found


@pytest.fixture
def session_processes() -> Callable[[int], list[str]]:
    return processes_in_session


def _kill_session(sid: int) -> None:
    for line in processes_in_session(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)


def _alive_workers(ui: str) -> int:
    try:
        return int(httpx.get(f"{ui}/json/", timeout=2).json().get("aliveworkers", 0))
    except (httpx.HTTPError, ValueError):
        return 0


@pytest.fixture(scope="session")
def standalone_cluster(
    spark_env: SparkEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A Spark standalone master and one worker on 127.0.0.1; yields the spark:// URL."""
    base = tmp_path_factory.mktemp("standalone")
    port, ui_port = free_port(), free_port()
    env = spark_env_module.spark_submit_env(
        spark_env.settings,
        spark_env.spark_home,
        spark_env.java,
        {
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(base / "logs"),
            "SPARK_WORKER_DIR": str(base / "work"),
        },
    )
    spark_class = str(spark_env.spark_home / "bin" / "spark-class")
    url = f"spark://127.0.0.1:{port}"
    commands = {
        "master": [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                   "--port", str(port), "--webui-port", str(ui_port)],
        "worker": [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                   "--webui-port", str(free_port()), "--cores", "2", "--memory", "2g", url],
    }  # fmt: skip
    procs = []
    try:
        for name, argv in commands.items():
            with (base / f"{name}.log").open("ab") as log:
                procs.append(
                    subprocess.Popen(
                        argv, env=env, cwd=base, stdout=log, stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL, start_new_session=True,
                    )
                )  # fmt: skip
        ui = f"http://127.0.0.1:{ui_port}"
        deadline = time.monotonic() + 90
        while _alive_workers(ui) < 1:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                logs = {n: (base / f"{n}.log").read_text()[-2000:] for n in commands}
                pytest.fail(f"the standalone cluster did not come up: {logs}")
            time.sleep(0.5)
        yield url
    finally:
        for proc in procs:
            _kill_session(proc.pid)
            proc.wait(timeout=30)
