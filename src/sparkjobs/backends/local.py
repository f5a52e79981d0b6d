"""The local backend: spark-submit as a child process of this machine.

Each run is a runner process (sparkjobs.backends.runner) leading a session of
its own; spark-submit and everything Spark starts live in that session. The
handle (runner pid, its start time, the exit file) is all a later server
process needs to poll or stop the run.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from sparkjobs import errors, launch
from sparkjobs.backends import runner, spark_env, sparklog
from sparkjobs.backends.base import Handle, Observation, Status
from sparkjobs.config import Settings

EXIT_FILE_NAME = ".sparkjobs-exit.json"
#: Most bytes of log read per poll: a poll stays quick even behind a chatty job.
MAX_LOG_READ = 1 << 20
#: Seconds between two questions to a driver UI for its app id.
UI_ASK_INTERVAL = 1.0

#: Runner processes this server process started, so poll can reap them (no zombies).
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass
class _LogScan:
    """How far poll has read a run's log, and what it found there."""

    offset: int = 0
    facts: sparklog.DriverFacts = field(default_factory=sparklog.DriverFacts)
    ui_asked_at: float = 0.0
    #: When this process first looked at the run (the UI is asked only after a while).
    first_seen: float = field(default_factory=time.monotonic)


class LocalBackend:
    """Runs spark-submit on this machine; see the module docstring."""

    name = "local"
    shared = False  # its runs live on this server only

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._scans: dict[tuple[int, int], _LogScan] = {}

    def submit(self, plan: launch.LaunchPlan, *, work_dir: Path, log_path: Path) -> Handle:
        argv = launch.build_spark_submit_argv(plan)
        _check_local_files(plan)
        env = self._child_env(plan)
        exit_file = work_dir / EXIT_FILE_NAME
        exit_file.unlink(missing_ok=True)
        proc = _start_runner(argv, exit_file, env, work_dir=work_dir, log_path=log_path)
        stat = runner.read_stat(proc.pid)
        return {
            "pid": proc.pid,
            "pgid": proc.pid,
            # The runner cannot have been reaped yet, so stat is there.
            "start_time": stat.start_time if stat else 0,
            "exit_file": str(exit_file),
            "log_path": str(log_path),
        }

    def poll(self, handle: Handle) -> Observation:
        ref = _Ref.of(handle)
        if ref is None:
            return Observation(status=Status.NOT_FOUND, message="not a local backend handle")
        _reap(ref.pid)
        code = runner.read_exit_file(ref.exit_file)
        if code is None and ref.runner_alive():
            scan = self._scan(ref, ask_ui=True)
            return _observe(Status.RUNNING, None, scan)
        # The runner may have written the file and exited between the two looks.
        code = runner.read_exit_file(ref.exit_file) if code is None else code
        if code is None:
            return Observation(
                status=Status.NOT_FOUND,
                message="the spark-submit process vanished without an exit code",
            )
        return _observe(Status.EXITED, code, self._scan(ref, ask_ui=False))

    def stop(self, handle: Handle, *, force: bool = False) -> None:
        ref = _Ref.of(handle)
        if ref is None or not ref.session_is_ours():
            return
        if force:
            # Spare the runner so it records the exit code; it only starts and waits.
            sent = runner.signal_session(ref.pid, signal.SIGKILL, spare=ref.pid)
            if sent == 0:  # nothing started yet: the runner's SIGTERM handler cancels
                runner.signal_session(ref.pid, signal.SIGTERM)
        else:
            runner.signal_session(ref.pid, signal.SIGTERM)

    def cleanup(self, handle: Handle, *, work_dir: Path) -> None:
        ref = _Ref.of(handle)
        if ref is not None:
            if ref.session_is_ours():
                # Only leftovers can be here (the run is over): e.g. a JVM whose runner was killed.
                runner.signal_session(ref.pid, signal.SIGKILL)
            _reap(ref.pid)
            self._scans.pop((ref.pid, ref.start_time), None)
        shutil.rmtree(work_dir, ignore_errors=True)

    def _child_env(self, plan: launch.LaunchPlan) -> dict[str, str]:
        try:
            spark_home = _spark_home_of(plan.spark_submit, self._settings)
            java = spark_env.find_java(self._settings)
        except (errors.SparkNotFound, errors.JavaNotFound) as exc:
            raise errors.SubmitError(exc.message) from exc
        return spark_env.spark_submit_env(self._settings, spark_home, java, plan.env)

    def _scan(self, ref: _Ref, *, ask_ui: bool) -> _LogScan:
        # Offsets live in memory: a restarted server scans the log again from 0.
        scan = self._scans.setdefault((ref.pid, ref.start_time), _LogScan())
        if not scan.facts.complete:
            _read_new_lines(ref.log_path, scan)
        if ask_ui and scan.facts.app_id is None and scan.facts.ui_url is not None:
            self._ask_ui(scan, scan.facts.ui_url)
        return scan

    def _ask_ui(self, scan: _LogScan, ui_url: str) -> None:
        # A local master never logs its app id ("local-<millis>"); its UI tells.
        now = time.monotonic()
        if now - scan.first_seen < self._settings.local_app_id_delay_seconds:
            return
        if now - scan.ui_asked_at < UI_ASK_INTERVAL or not _is_loopback(ui_url):
            return
        scan.ui_asked_at = time.monotonic()
        with contextlib.suppress(httpx.HTTPError, ValueError):
            answer = httpx.get(sparklog.ui_applications_url(ui_url), timeout=0.5)
            app_id = sparklog.app_id_from_applications(answer.json())
            scan.facts = replace(scan.facts, app_id=app_id)


@dataclass(frozen=True)
class _Ref:
    """A handle, checked and typed."""

    pid: int
    start_time: int
    exit_file: Path
    log_path: Path

    @classmethod
    def of(cls, handle: Handle) -> _Ref | None:
        try:
            return cls(
                pid=int(handle["pid"]),
                start_time=int(handle["start_time"]),
                exit_file=Path(handle["exit_file"]),
                log_path=Path(handle["log_path"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def runner_alive(self) -> bool:
        stat = runner.read_stat(self.pid)
        return stat is not None and stat.state != "Z" and stat.start_time == self.start_time

    def session_is_ours(self) -> bool:
        """False when the runner's pid now names another process (the pid was reused).

        While any process of the run's session lives, the kernel does not hand
        out its id again; so when the runner is gone, the session's members are ours.
        """
        stat = runner.read_stat(self.pid)
        return stat is None or stat.start_time == self.start_time


def _check_local_files(plan: launch.LaunchPlan) -> None:
    if not Path(plan.spark_submit).is_file():
        raise errors.SubmitError(
            f"spark-submit not found at {plan.spark_submit}; "
            "install the 'spark' extra or set SPARKJOBS_SPARK_HOME"
        )
    main = plan.main_file.removeprefix("file:")
    if "://" not in plan.main_file and not main.startswith("local:") and not Path(main).is_file():
        raise errors.SubmitError(f"the application file {plan.main_file} does not exist")


def _spark_home_of(spark_submit: str, settings: Settings) -> Path:
    # SPARK_HOME must be the installation whose spark-submit runs, when we can tell.
    home = Path(spark_submit).resolve().parent.parent
    if (home / "jars").is_dir():
        return home
    return spark_env.find_spark_home(settings)


def _start_runner(
    argv: list[str], exit_file: Path, env: dict[str, str], *, work_dir: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "sparkjobs.backends.runner", "--exit-file", str(exit_file)]
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                [*command, "--", *argv],
                cwd=work_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    except OSError as exc:
        raise errors.SubmitError(f"cannot start spark-submit: {exc}") from exc
    _children[proc.pid] = proc
    return proc


def _reap(pid: int) -> None:
    proc = _children.get(pid)
    if proc is not None and proc.poll() is not None:
        del _children[pid]


def _read_new_lines(log_path: Path, scan: _LogScan) -> None:
    try:
        with log_path.open("rb") as log:
            log.seek(scan.offset)
            chunk = log.read(MAX_LOG_READ)
    except FileNotFoundError:
        return
    # Stop at the last complete line; the rest is read again next time.
    end = chunk.rfind(b"\n") + 1 if len(chunk) < MAX_LOG_READ else len(chunk)
    scan.offset += end
    for line in chunk[:end].decode("utf-8", "replace").splitlines():
        scan.facts = scan.facts.feed(line)


def _is_loopback(url: str) -> bool:
    # Only our own driver's UI is asked: a job cannot steer the server to other hosts.
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        return False


def _observe(status: Status, code: int | None, scan: _LogScan) -> Observation:
    return Observation(
        status=status,
        exit_code=code,
        message=_exit_message(code),
        spark_app_id=scan.facts.app_id,
        spark_ui_url=scan.facts.ui_url,
    )


def _exit_message(code: int | None) -> str | None:
    if not code:
        return None
    with contextlib.suppress(ValueError):
        if code > 128:
            return f"ended by {signal.Signals(code - 128).name} (exit code {code})"
    return f"spark-submit exited with code {code}; see the run's log"
