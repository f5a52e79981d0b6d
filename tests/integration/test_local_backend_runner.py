"""The runner process on its own (plain Python children, no Spark): exit codes,
the exit file, surviving SIGTERM, and the sweep of what a child leaves behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sparkjobs.backends import runner

PY = sys.executable


def start_runner(exit_file: Path, *argv: str) -> subprocess.Popen[bytes]:
    command = [PY, "-m", "sparkjobs.backends.runner", "--exit-file", str(exit_file), "--", *argv]
    return subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE)


def test_the_child_exit_code_is_recorded_and_returned(tmp_path: Path) -> None:
    exit_file = tmp_path / "exit.json"
    proc = start_runner(exit_file, PY, "-c", "import sys; print('hi'); sys.exit(5)")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 5 and out == b"hi\n"
    assert json.loads(exit_file.read_text()) == {"exit_code": 5}
    assert runner.read_exit_file(exit_file) == 5


def test_a_child_killed_by_a_signal_is_recorded_as_128_plus_it(tmp_path: Path) -> None:
    exit_file = tmp_path / "exit.json"
    with start_runner(exit_file, PY, "-c", "import os; os.kill(os.getpid(), 9)") as proc:
        assert proc.wait(timeout=30) == 137
    assert runner.read_exit_file(exit_file) == 137


def test_a_missing_program_is_exit_code_127(tmp_path: Path) -> None:
    exit_file = tmp_path / "exit.json"
    with start_runner(exit_file, str(tmp_path / "no-such-program")) as proc:
        assert proc.wait(timeout=30) == 127
    assert runner.read_exit_file(exit_file) == 127


def test_the_runner_outlives_a_sigterm_to_its_group_and_records_it(tmp_path: Path) -> None:
    exit_file = tmp_path / "exit.json"
    child = "import time; print('up', flush=True); time.sleep(60)"
    with start_runner(exit_file, PY, "-c", child) as proc:
        assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 143
    assert runner.read_exit_file(exit_file) == 143


def test_what_the_child_leaves_in_the_session_is_killed(
    tmp_path: Path, session_processes: Callable[[int], list[str]]
) -> None:
    # The child starts a grandchild in a process group of its own (as pyspark.daemon does),
    # then exits: the runner must not leave it running.
    child = (
        "import subprocess, sys;"
        f"p = subprocess.Popen([{PY!r}, '-c', 'import time; time.sleep(60)'], process_group=0);"
        "print(p.pid, flush=True)"
    )
    with start_runner(tmp_path / "exit.json", PY, "-c", child) as proc:
        assert proc.stdout is not None
        grandchild = int(proc.stdout.readline())
        assert proc.wait(timeout=30) == 0
    # The runner killed it before exiting; it may stay a zombie until init reaps it.
    stat = runner.read_stat(grandchild)
    assert stat is None or stat.state == "Z"
    assert session_processes(proc.pid) == []


def test_parse_args_wants_an_exit_file_and_a_command() -> None:
    assert runner.parse_args(["--exit-file", "f", "--", "a", "--", "b"]) == (
        Path("f"),
        ["a", "--", "b"],
    )
    for bad in ([], ["--exit-file", "f"], ["--exit-file", "f", "a", "b"], ["x", "f", "--", "a"]):
        try:
            runner.parse_args(bad)
        except SystemExit:
            continue
        raise AssertionError(f"accepted {bad}")


def test_read_stat_of_this_process() -> None:
    stat = runner.read_stat(os.getpid())
    assert stat is not None and stat.state in {"R", "S"} and stat.sid == os.getsid(0)
    assert runner.read_stat(2**22 + 12345) is None
