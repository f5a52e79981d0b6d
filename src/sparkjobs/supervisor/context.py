"""What the supervisor's parts share: settings, store, backends, clock, secrets, alerts."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sparkjobs import runs
from sparkjobs.backends.base import Backend
from sparkjobs.config import Settings
from sparkjobs.inputs.secrets import SecretBox
from sparkjobs.runs import RunState
from sparkjobs.store import Database, repo
from sparkjobs.supervisor import alerting, masking

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_instance_id(settings: Settings) -> str:
    """Stable across restarts of one server, distinct between servers.

    Local runs live on one host, so only the server that launched them may watch them.
    Settings.instance_id replaces it where the host name changes on restart.
    """
    return settings.instance_id or f"{socket.gethostname()}:{settings.data_dir.resolve()}"


@dataclass(frozen=True, kw_only=True)
class Context:
    settings: Settings
    db: Database
    backends: Mapping[str, Backend]
    clock: Clock
    instance_id: str
    box: SecretBox
    redactors: masking.Redactors
    alerting: alerting.Alerting
    #: Wakes the supervisor's loop (something changed that it should look at now).
    wake: Callable[[], None]

    def log_path(self, run_id: str) -> Path:
        return self.settings.logs_dir / f"{run_id}.log"

    def work_dir(self, run_id: str) -> Path:
        return self.settings.runs_dir / run_id

    def fresh(self, run: runs.Run) -> runs.Run:
        with self.db.session() as s:
            return repo.get_run(s, run.id)

    def move(self, run: runs.Run, target: RunState, reason: str) -> runs.Run:
        """A non-terminal transition (compare-and-set from the state `run` was read in)."""
        with self.db.session() as s:
            return repo.transition(s, run.id, run.state, target, reason, self.clock())


def append_log(path: Path, text: str) -> None:
    """Add a line of the server's own to a run's log (why it could not start...)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(text)
