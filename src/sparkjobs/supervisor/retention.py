"""Log retention: the logs of ended runs are removed after log_retention_days.

A run's log outlives its working directory (it is what a person reads after a
failure) but not forever. Only logs of runs that have ended, or that the store
no longer knows (their job was deleted), are removed; an active run's log
never is, however old.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sparkjobs import errors, runs
from sparkjobs.store import Database, repo

log = logging.getLogger(__name__)

#: How often the supervisor looks for expired logs.
SWEEP_INTERVAL_SECONDS = 3600.0


def old_logs(logs_dir: Path, *, now: float, days: float) -> list[Path]:
    """Log files last written more than `days` ago."""
    if not logs_dir.is_dir():
        return []
    cutoff = now - days * 86400
    return sorted(p for p in logs_dir.glob("*.log") if p.stat().st_mtime < cutoff)


def sweep(db: Database, logs_dir: Path, *, days: float, now: float | None = None) -> list[Path]:
    """Remove the expired logs of ended or forgotten runs; return what was removed."""
    removed = []
    for path in old_logs(logs_dir, now=time.time() if now is None else now, days=days):
        if _still_active(db, path.stem):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    if removed:
        log.info("removed %d run logs older than %s days", len(removed), days)
    return removed


def _still_active(db: Database, run_id: str) -> bool:
    try:
        with db.session() as s:
            return repo.get_run(s, run_id).state in runs.ACTIVE
    except errors.RunNotFound:
        return False


class RetentionClock:
    """Says when the next sweep is due (monotonic time; the first is due at once)."""

    def __init__(self, interval: float = SWEEP_INTERVAL_SECONDS) -> None:
        self._interval = interval
        self._next = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self._interval
        return True
