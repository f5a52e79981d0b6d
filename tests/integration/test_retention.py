"""Log retention over a real store: ended and forgotten runs' old logs go, active ones stay."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sparkjobs import jobs, runs
from sparkjobs.store import Database, repo
from sparkjobs.supervisor import retention

NOW = 2_000_000_000.0
DAY = 86400.0


def _log(logs: Path, run_id: str, age_days: float) -> Path:
    path = logs / f"{run_id}.log"
    path.write_text("spark said things\n")
    os.utime(path, (NOW - age_days * DAY, NOW - age_days * DAY))
    return path


def _run(db: Database, run_id: str, state: runs.RunState) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with db.session() as s:
        if not repo.list_jobs(s):
            spec = jobs.JobSpec.model_validate(
                {"name": "wc", "source": {"type": "path", "path": "/srv/wc.py"}}
            )
            repo.create_job(s, spec, at)
        repo.insert_run(
            s,
            runs.Run(
                id=run_id, job="wc", job_version=1, state=state,
                trigger=runs.Trigger.API, created_at=at,
            ),
        )  # fmt: skip


def test_only_old_logs_of_runs_that_ended_or_are_forgotten_are_removed(
    db_url: str, tmp_path: Path
) -> None:
    db = Database(db_url)
    db.migrate()
    logs = tmp_path / "logs"
    logs.mkdir()
    _run(db, "ended0000001", runs.RunState.SUCCEEDED)
    _run(db, "active000001", runs.RunState.QUEUED)
    _run(db, "recent000001", runs.RunState.FAILED)
    old_ended = _log(logs, "ended0000001", age_days=31)
    old_active = _log(logs, "active000001", age_days=90)
    recent = _log(logs, "recent000001", age_days=29)
    forgotten = _log(logs, "gone00000001", age_days=40)
    try:
        removed = retention.sweep(db, logs, days=30, now=NOW)
    finally:
        db.dispose()
    assert removed == sorted([old_ended, forgotten])
    assert old_active.exists() and recent.exists()
    assert not old_ended.exists() and not forgotten.exists()


def test_a_missing_logs_dir_is_nothing_to_do(tmp_path: Path) -> None:
    assert retention.old_logs(tmp_path / "nope", now=NOW, days=1) == []
