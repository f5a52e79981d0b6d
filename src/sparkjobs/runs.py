"""Runs: one execution of a job version, its states and the legal moves between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sparkjobs import errors


class RunState(StrEnum):
    QUEUED = "queued"  #: stored, waiting for a free slot (and its retry backoff)
    STARTING = "starting"  #: inputs resolved, handed to a backend
    RUNNING = "running"  #: the driver is up
    STOPPING = "stopping"  #: a stop (or a timeout) was asked; the backend is ending it
    SUCCEEDED = "succeeded"  #: the application exited with code 0
    FAILED = "failed"  #: non-zero exit, or the run could not start
    STOPPED = "stopped"  #: ended on request
    TIMED_OUT = "timed_out"  #: ended because it ran past timeout_seconds
    LOST = "lost"  #: the server lost track of the process (it vanished, or no backend knows it)


ACTIVE = frozenset({RunState.QUEUED, RunState.STARTING, RunState.RUNNING, RunState.STOPPING})
TERMINAL = frozenset(RunState) - ACTIVE
#: States from which a stop request moves the run to STOPPING (QUEUED goes straight to STOPPED).
STOPPABLE = frozenset({RunState.STARTING, RunState.RUNNING})
#: States in which a backend process may exist.
LAUNCHED = frozenset({RunState.STARTING, RunState.RUNNING, RunState.STOPPING})

_S = RunState
TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    _S.QUEUED: frozenset({_S.STARTING, _S.STOPPED, _S.FAILED, _S.LOST}),
    _S.STARTING: frozenset(
        {_S.RUNNING, _S.SUCCEEDED, _S.FAILED, _S.STOPPING, _S.TIMED_OUT, _S.LOST}
    ),
    _S.RUNNING: frozenset({_S.SUCCEEDED, _S.FAILED, _S.STOPPING, _S.TIMED_OUT, _S.LOST}),
    _S.STOPPING: frozenset({_S.STOPPED, _S.TIMED_OUT, _S.LOST}),
}
for _terminal in TERMINAL:
    TRANSITIONS[_terminal] = frozenset()


def check_transition(current: RunState, target: RunState) -> None:
    """Raise InvalidTransition unless the table allows current -> target."""
    if target not in TRANSITIONS[current]:
        raise errors.InvalidTransition(f"a run cannot go from {current} to {target}")


class Trigger(StrEnum):
    API = "api"
    RERUN = "rerun"
    RETRY = "retry"
    SCHEDULE = "schedule"


@dataclass(frozen=True, kw_only=True)
class RunOverrides:
    """What one run changes of its job version, for that run only."""

    args: list[str] | None = None
    conf: dict[str, str] | None = None
    env: list[dict[str, str]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True, kw_only=True)
class Run:
    id: str
    job: str
    job_version: int
    state: RunState
    trigger: Trigger
    attempt: int = 1
    overrides: RunOverrides = field(default_factory=RunOverrides)
    exit_code: int | None = None
    reason: str | None = None
    spark_app_id: str | None = None
    spark_ui_url: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: Earliest time the supervisor may start it (retry backoff).
    not_before: datetime | None = None
    #: The run this one repeats (rerun) or retries (retry).
    parent_id: str | None = None
    #: Slot time for scheduled runs.
    scheduled_for: datetime | None = None
    backend: str = "local"
    #: What the backend needs to find the run again (pid, Job name ...).
    handle: dict[str, Any] | None = None
    #: Server instance that launched it (local processes live on one machine).
    owner: str | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


@dataclass(frozen=True, kw_only=True)
class RunEvent:
    run_id: str
    at: datetime
    from_state: RunState | None
    to_state: RunState
    reason: str
