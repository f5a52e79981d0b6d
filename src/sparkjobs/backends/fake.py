"""FakeBackend: an in-memory backend for tests of the supervisor and above.

Deterministic, no threads, no processes. A test scripts what happens:

    fake = FakeBackend()
    handle = fake.submit(plan, work_dir=..., log_path=...)   # RUNNING from now on
    fake.finish(handle, 3)        # or fake.finish("run-id", 3): poll says EXITED, exit_code 3
    fake.vanish(handle)           # poll says NOT_FOUND
    fake.fail_next_submit("no")   # the next submit raises SubmitError("no")
    fake.stubborn(handle)         # a plain stop is ignored; stop(force=True) still ends it

A stop ends the run like LocalBackend does: exit code 143 (SIGTERM) or 137 (force).
Every call is recorded (submitted, stops, cleanups) for assertions.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sparkjobs import errors, launch
from sparkjobs.backends.base import Handle, Observation, Status

EXIT_SIGTERM = 143
EXIT_SIGKILL = 137


@dataclass
class FakeRun:
    """One submitted run and what the test made of it."""

    fake_id: int
    plan: launch.LaunchPlan
    status: Status = Status.RUNNING
    exit_code: int | None = None
    stubborn: bool = False


class FakeBackend:
    """See the module docstring."""

    name = "fake"
    shared = False

    def __init__(self) -> None:
        self.runs: dict[int, FakeRun] = {}
        self.submitted: list[launch.LaunchPlan] = []
        #: (fake_id, force) for every stop call, in order.
        self.stops: list[tuple[int, bool]] = []
        self.cleanups: list[int] = []
        self._next_error: str | None = None

    def submit(self, plan: launch.LaunchPlan, *, work_dir: Path, log_path: Path) -> Handle:
        if self._next_error is not None:
            message, self._next_error = self._next_error, None
            raise errors.SubmitError(message)
        fake_id = len(self.submitted) + 1
        self.submitted.append(plan)
        self.runs[fake_id] = FakeRun(fake_id=fake_id, plan=plan)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a") as log:
            log.write(f"fake backend: started run {plan.run_id} ({plan.app_name})\n")
        return {"fake_id": fake_id}

    def poll(self, handle: Handle) -> Observation:
        run = self._find(handle)
        if run is None or run.status == Status.NOT_FOUND:
            return Observation(status=Status.NOT_FOUND, message="the fake run vanished")
        return Observation(
            status=run.status,
            exit_code=run.exit_code,
            message=f"the fake run exited with code {run.exit_code}" if run.exit_code else None,
            spark_app_id=f"fake-app-{run.fake_id}",
            spark_ui_url=None,
        )

    def stop(self, handle: Handle, *, force: bool = False) -> None:
        run = self._find(handle)
        if run is None:
            return
        self.stops.append((run.fake_id, force))
        if run.status == Status.RUNNING and (force or not run.stubborn):
            self._end(run, EXIT_SIGKILL if force else EXIT_SIGTERM)

    def cleanup(self, handle: Handle, *, work_dir: Path) -> None:
        run = self._find(handle)
        if run is not None:
            self.cleanups.append(run.fake_id)
        shutil.rmtree(work_dir, ignore_errors=True)

    # What a test does to the runs.

    def finish(self, ref: Handle | str, exit_code: int) -> None:
        """The run ends with exit_code (poll reports EXITED)."""
        self._end(self._get(ref), exit_code)

    def vanish(self, ref: Handle | str) -> None:
        """The run disappears without an exit code (poll reports NOT_FOUND)."""
        self._get(ref).status = Status.NOT_FOUND

    def stubborn(self, ref: Handle | str) -> None:
        """The run ignores plain stops; only stop(force=True) ends it."""
        self._get(ref).stubborn = True

    def fail_next_submit(self, message: str = "the fake backend refused the run") -> None:
        self._next_error = message

    def handle_of(self, run_id: str) -> Handle:
        """The handle of the latest submit of run_id."""
        return {"fake_id": self._get(run_id).fake_id}

    def _end(self, run: FakeRun, exit_code: int) -> None:
        run.status, run.exit_code = Status.EXITED, exit_code

    def _find(self, handle: Handle) -> FakeRun | None:
        fake_id = handle.get("fake_id")
        return self.runs.get(fake_id) if isinstance(fake_id, int) else None

    def _get(self, ref: Handle | str) -> FakeRun:
        if isinstance(ref, str):
            matches = [run for run in self.runs.values() if run.plan.run_id == ref]
            if matches:
                return matches[-1]
        else:
            found = self._find(ref)
            if found is not None:
                return found
        raise KeyError(f"the fake backend has no run {ref!r}")
