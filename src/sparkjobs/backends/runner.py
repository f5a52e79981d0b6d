"""The runner: `python -m sparkjobs.backends.runner --exit-file F -- argv...`.

LocalBackend starts it as the leader of a new session. It runs argv as its
child, waits, kills whatever the application left in the session, and writes
the child's exit code to F atomically, so that a server started later (after
this one's parent died) still learns how the run ended.

It survives the SIGTERM that a stop sends to the session (the child and its
descendants end; the runner stays to record their exit code). A SIGTERM that
arrives before the child is started means "do not start": it records 143.

Also home of the /proc readers that LocalBackend and the runner share (Linux only).
Standard library only: it starts on every run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126


@dataclass(frozen=True, kw_only=True)
class ProcStat:
    """The fields of /proc/<pid>/stat we need."""

    pid: int
    state: str
    pgid: int
    sid: int
    #: Clock ticks after boot; with pid, it names one process even when pids are reused.
    start_time: int


def read_stat(pid: int) -> ProcStat | None:
    """The process's stat, or None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    pgid, sid, start_time = int(fields[2]), int(fields[3]), int(fields[19])
    return ProcStat(pid=pid, state=fields[0], pgid=pgid, sid=sid, start_time=start_time)


def session_members(sid: int) -> list[int]:
    """Live (not zombie) processes of session sid.

    The session, not the process group, is the unit: pyspark.daemon moves
    itself and its workers into a process group of their own.
    """
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = read_stat(int(entry.name))
            if stat is not None and stat.sid == sid and stat.state != "Z":
                members.append(stat.pid)
    return members


def signal_session(sid: int, sig: int, *, spare: int | None = None) -> int:
    """Send sig to every live process of session sid but spare; how many were signalled."""
    sent = 0
    for pid in session_members(sid):
        if pid != spare:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
                sent += 1
    return sent


def exit_status(returncode: int) -> int:
    """A shell-style status: a death by signal N becomes 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def write_exit_file(path: Path, code: int) -> None:
    """Write {"exit_code": code} so a reader sees the whole file or none."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"exit_code": code}))
    tmp.replace(path)  # atomic: readers see the old state or the whole file


def read_exit_file(path: Path) -> int | None:
    """The exit code a runner recorded, or None when it has not (yet)."""
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    code = data.get("exit_code") if isinstance(data, dict) else None
    return code if isinstance(code, int) else None


class _Runner:
    def __init__(self, exit_file: Path, argv: list[str]) -> None:
        self.exit_file = exit_file
        self.argv = argv
        self.child: subprocess.Popen[bytes] | None = None
        self.cancelled = False

    def on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        # A Python handler (not SIG_IGN) so the child gets the default action after exec.
        if self.child is None:
            self.cancelled = True

    def run(self) -> int:
        code = 128 + signal.SIGTERM if self.cancelled else self._run_child()
        if os.getsid(0) == os.getpid():  # never sweep a session we were merely started in
            signal_session(os.getpid(), signal.SIGKILL, spare=os.getpid())
        write_exit_file(self.exit_file, code)
        return code

    def _run_child(self) -> int:
        try:
            self.child = subprocess.Popen(self.argv)
        except FileNotFoundError as exc:
            print(f"sparkjobs runner: cannot start {self.argv[0]!r}: {exc}", file=sys.stderr)
            return EXIT_NOT_FOUND
        except OSError as exc:
            print(f"sparkjobs runner: cannot start {self.argv[0]!r}: {exc}", file=sys.stderr)
            return EXIT_NOT_EXECUTABLE
        return exit_status(self.child.wait())


def parse_args(args: list[str]) -> tuple[Path, list[str]]:
    """(exit file, command) from ['--exit-file', F, '--', *command]."""
    if len(args) < 4 or args[0] != "--exit-file" or args[2] != "--":
        raise SystemExit("usage: python -m sparkjobs.backends.runner --exit-file F -- ARGV...")
    return Path(args[1]), args[3:]


def main(args: list[str]) -> int:
    exit_file, argv = parse_args(args)
    runner = _Runner(exit_file, argv)
    signal.signal(signal.SIGTERM, runner.on_sigterm)
    return runner.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
