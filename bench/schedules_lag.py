"""How late do 10,000 schedules due at the same second become stored runs?

    .venv/bin/python bench/schedules_lag.py                      # SQLite, then PostgreSQL
    .venv/bin/python bench/schedules_lag.py --db sqlite --slots 1
    .venv/bin/python bench/schedules_lag.py --db sqlite --slots 1 --supervisor
    SPARKJOBS_TEST_POSTGRES_URL=postgresql+psycopg://USER:PW@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/schedules_lag.py --db postgresql

One server: a Scheduler thread on the real clock, as `sparkjobs serve` runs it,
over N jobs whose cron is "* * * * *" (every minute, concurrency_policy allow).
Such schedules are decided up to scheduler.core.AHEAD_SECONDS before their slot:
each run is stored queued with not_before = its slot, and the supervisor starts
it once the slot has come. For each of --slots minutes it reports:

- lag: created_at - scheduled_for of the runs of that slot, p50 / p99 / max.
  created_at is taken just before the batch's transaction commits, so it is the
  moment the run is stored. Negative: stored BEFORE its slot; the share of runs
  stored before their slot is printed as "before slot".
- stored: when a poller (every 20 ms, from 6 s before the slot) first saw all N
  runs committed, relative to the slot (negative: before it).
- CPU: this process's user+system CPU seconds from 6 s before the slot to 55 s
  after it, i.e. one slot's work (the scheduler and the poller; the database
  server's own CPU is not counted).
- exactly once: the runs of the slot must be N, one per job (the unique key
  (job_name, scheduled_for) forbids more; fewer would be a missed slot).

With --supervisor the supervisor's loop also runs, over a fake backend whose runs
end at once (max_concurrent_runs=4, the default): then "started" is the time from
the slot to the supervisor moving the slot's runs from queued to starting
(its claim, the moment a run is handed to a backend), for the first runs it
starts in that minute and how many it started. This is the latency a user
sees; with 10,000 runs a minute and room for 4 at a time, most runs wait for
room, so only the first starts say anything about the scheduler. Measure one
slot in this mode: later slots' runs queue behind the earlier slots' backlog.

A fresh database each time (SQLite in a temp dir; PostgreSQL: a new database
dropped afterwards). Each database takes about 1 + slots minutes.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sparkjobs import jobs
from sparkjobs.backends.base import Handle
from sparkjobs.backends.fake import FakeBackend
from sparkjobs.config import Settings
from sparkjobs.scheduler import Scheduler
from sparkjobs.scheduler.core import AHEAD_SECONDS
from sparkjobs.store import Database, repo
from sparkjobs.store.tables import RunEventRow, RunRow
from sparkjobs.supervisor import Supervisor

#: The poller starts this long before the slot (runs may be stored AHEAD_SECONDS before it).
EARLY = AHEAD_SECONDS + 1


class InstantBackend(FakeBackend):
    """A fake backend whose runs have ended by the time they are polled."""

    def submit(self, plan: Any, *, work_dir: Path, log_path: Path) -> Handle:
        handle = super().submit(plan, work_dir=work_dir, log_path=log_path)
        self.finish(handle, 0)
        return handle


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    server = os.environ.get("SPARKJOBS_TEST_POSTGRES_URL")
    if not server:
        sys.exit("set SPARKJOBS_TEST_POSTGRES_URL to bench PostgreSQL")
    name = f"sparkjobs_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def create_jobs(db: Database, apps: Path, n: int) -> None:
    app = apps / "app.py"
    app.write_text("print('hi')\n")
    now = datetime.now(UTC)
    with db.session() as s:
        for i in range(n):
            spec = jobs.JobSpec.model_validate(
                {
                    "name": f"job-{i:05d}",
                    "source": {"type": "path", "path": str(app)},
                    "schedule": {"cron": "* * * * *"},
                }
            )
            repo.create_job(s, spec, now)


def count_for(db: Database, slot: datetime) -> int:
    with db.session() as s:
        query = sa.select(sa.func.count()).where(RunRow.scheduled_for == slot)
        return int(s.execute(query).scalar_one())


def lags(db: Database, slot: datetime) -> list[float]:
    with db.session() as s:
        rows = s.execute(sa.select(RunRow.created_at).where(RunRow.scheduled_for == slot))
        return sorted((created - slot).total_seconds() for (created,) in rows)


def started(db: Database, slot: datetime) -> list[float]:
    """Seconds from the slot to each of its runs' queued -> starting event, sorted."""
    with db.session() as s:
        rows = s.execute(
            sa.select(RunEventRow.at)
            .join(RunRow, RunRow.id == RunEventRow.run_id)
            .where(RunRow.scheduled_for == slot, RunEventRow.to_state == "starting")
        )
        return sorted((at - slot).total_seconds() for (at,) in rows)


def distinct_jobs(db: Database, slot: datetime) -> int:
    with db.session() as s:
        query = sa.select(sa.func.count(sa.distinct(RunRow.job_name)))
        return int(s.execute(query.where(RunRow.scheduled_for == slot)).scalar_one())


def watch(db: Database, slot: datetime, n: int, timeout: float) -> float | None:
    """Seconds from the slot (negative: before) until all n runs were seen committed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count_for(db, slot) >= n:
            return (datetime.now(UTC) - slot).total_seconds()
        time.sleep(0.02)
    return None


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def bench(kind: str, n: int, slots: int, with_supervisor: bool) -> None:
    # ignore_cleanup_errors: with --supervisor, a launch still in flight at the end may
    # write a log file while the directory goes.
    temp = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
    with temp as tmp_name, database(kind, Path(tmp_name)) as url:
        tmp = Path(tmp_name)
        (tmp / "apps").mkdir()
        settings = Settings(
            data_dir=tmp / "data", allowed_source_dirs=[tmp / "apps"], default_backend="fake"
        )
        db = Database(url)
        db.migrate()
        started = time.monotonic()
        create_jobs(db, tmp / "apps", n)
        print(f"[{kind}] {n} jobs created in {time.monotonic() - started:.1f} s", flush=True)
        backends = {"fake": InstantBackend()} if with_supervisor else {}
        sup = Supervisor(settings, db, backends, instance_id="bench")
        sched = Scheduler(settings, db, sup, instance_id="bench")
        started = time.monotonic()
        sched.tick()  # first sight of every schedule: rows made, nothing fires
        print(f"[{kind}] first tick (rows for {n} schedules) {time.monotonic() - started:.1f} s")
        sched.start()
        if with_supervisor:
            sup.start()  # else its loop stays off: the runs need not run
        try:
            for _ in range(slots):
                measure_one_slot(kind, db, n, with_supervisor)
        finally:
            sched.shutdown()
            sup.shutdown()
            db.dispose()


def measure_one_slot(kind: str, db: Database, n: int, with_supervisor: bool) -> None:
    now = datetime.now(UTC)
    slot = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if (slot - now).total_seconds() < EARLY + 1:
        slot += timedelta(minutes=1)  # too late to watch this one from the start
    time.sleep(max(0.0, (slot - now).total_seconds() - EARLY))
    cpu_before = cpu_seconds()
    stored = watch(db, slot, n, timeout=55 + EARLY)
    time.sleep(max(0.0, (slot + timedelta(seconds=55) - datetime.now(UTC)).total_seconds()))
    cpu = cpu_seconds() - cpu_before
    found = lags(db, slot)
    exactly_once = len(found) == n == distinct_jobs(db, slot)
    before = sum(1 for lag in found if lag < 0) / max(len(found), 1)
    shown = f"{stored:+.3f}" if stored is not None else "never"
    print(
        f"[{kind}] slot {slot:%H:%M}: {len(found)} runs (exactly once: {exactly_once}); "
        f"lag p50 {statistics.median(found):+.3f} s, p99 {percentile(found, 0.99):+.3f} s, "
        f"max {found[-1]:+.3f} s; before slot {before:.1%}; all stored at {shown} s; "
        f"CPU {cpu:.2f} s over the minute",
        flush=True,
    )
    if with_supervisor:
        starts = started(db, slot)
        first = ", ".join(f"{s:+.3f}" for s in starts[:4]) or "none"
        print(f"[{kind}] slot {slot:%H:%M}: started {len(starts)} runs; first at {first} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--slots", type=int, default=2, help="minutes measured per database")
    parser.add_argument(
        "--supervisor", action="store_true", help="also run the supervisor; report run starts"
    )
    args = parser.parse_args()
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        bench(kind, args.jobs, args.slots, args.supervisor)


if __name__ == "__main__":
    main()
