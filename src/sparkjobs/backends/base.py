"""The backend protocol: the contract every backend (local, kubernetes, fake) keeps.

Only the supervisor calls a backend. A backend never writes to the store: it
starts things, stops things and reports observations; the supervisor turns
observations into state transitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from sparkjobs.launch import LaunchPlan

#: JSON-serialisable data a backend needs to find a run again, even from
#: another server process (pid and start time, Kubernetes Job name, ...).
Handle = dict[str, Any]


class Status(StrEnum):
    PENDING = "pending"  #: accepted, the driver is not up yet
    RUNNING = "running"  #: the driver process is up
    EXITED = "exited"  #: it ended; exit_code says how
    NOT_FOUND = "not_found"  #: the backend knows nothing of this handle (process gone, Job deleted)


@dataclass(frozen=True, kw_only=True)
class Observation:
    status: Status
    exit_code: int | None = None
    #: A sentence for a person: why it is pending, why it failed.
    message: str | None = None
    spark_app_id: str | None = None
    spark_ui_url: str | None = None


class Backend(Protocol):
    """Starts, watches and stops Spark applications.

    Every method is synchronous and quick (no method blocks for a run's
    lifetime); the supervisor calls poll() repeatedly.
    """

    name: str
    #: True when any server sharing the database can watch the backend's runs (a cluster's
    #: API); False when only the server that launched a run can (a local process).
    shared: bool

    def submit(self, plan: LaunchPlan, *, work_dir: Path, log_path: Path) -> Handle:
        """Start the application described by plan; return its handle.

        work_dir exists and is the run's own; log_path is where the
        application's stdout and stderr must end up (appended). Raises
        errors.SubmitError with a sentence a person can act on when it cannot start.
        """
        ...

    def poll(self, handle: Handle) -> Observation:
        """What the backend sees of the run now. NOT_FOUND is a value, not an error."""
        ...

    def stop(self, handle: Handle, *, force: bool = False) -> None:
        """Ask the run to end (force=False: SIGTERM or equivalent; True: kill). Idempotent."""
        ...

    def cleanup(self, handle: Handle, *, work_dir: Path) -> None:
        """Remove what the run left behind (work dir, per-run objects). Idempotent."""
        ...
