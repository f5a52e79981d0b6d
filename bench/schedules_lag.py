"""How late do 10,000 schedules due at the same second become stored runs?

    .venv/bin/python bench/schedules_lag.py                      # SQLite, then PostgreSQL
    .venv/bin/python bench/schedules_lag.py --db sqlite --slots 1
    SPARKJOBS_TEST_POSTGRES_URL=postgresql+psycopg://USER:PW@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/schedules_lag.py --db postgresql

One server: a Scheduler thread on the real clock, as `sparkjobs serve` runs it,
over N jobs whose cron is "* * * * *" (every minute). The supervisor exists but
its loop is not started: the runs need not run, the scheduler is measured. For
each of --slots minutes it reports:

- lag: created_at - scheduled_for of the runs of that slot (created_at is taken
  just before the batch's transaction), p50 / p99 / max;
- stored: when a poller (every 20 ms) first saw all N runs committed, after the slot;
- CPU: this process's user+system CPU seconds over the minute (the scheduler,
  plus the poller; PostgreSQL's own CPU is not counted);
- exactly once: the number of runs per slot must be N (the unique key forbids more).

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

import sqlalchemy as sa

from sparkjobs import jobs
from sparkjobs.config import Settings
from sparkjobs.scheduler import Scheduler
from sparkjobs.store import Database, repo
from sparkjobs.store.tables import RunRow
from sparkjobs.supervisor import Supervisor


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


def watch(db: Database, slot: datetime, n: int, timeout: float) -> float | None:
    """Seconds after the slot when all n runs were first seen committed (None: never)."""
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


def bench(kind: str, n: int, slots: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_name, database(kind, Path(tmp_name)) as url:
        tmp = Path(tmp_name)
        (tmp / "apps").mkdir()
        settings = Settings(data_dir=tmp / "data", allowed_source_dirs=[tmp / "apps"])
        db = Database(url)
        db.migrate()
        started = time.monotonic()
        create_jobs(db, tmp / "apps", n)
        print(f"[{kind}] {n} jobs created in {time.monotonic() - started:.1f} s", flush=True)
        sup = Supervisor(settings, db, {}, instance_id="bench")  # its loop stays off
        sched = Scheduler(settings, db, sup, instance_id="bench")
        started = time.monotonic()
        sched.tick()  # first sight of every schedule: rows made, nothing fires
        print(f"[{kind}] first tick (rows for {n} schedules) {time.monotonic() - started:.1f} s")
        sched.start()
        try:
            for _ in range(slots):
                measure_one_slot(kind, db, n)
        finally:
            sched.shutdown()
            sup.shutdown()
            db.dispose()


def measure_one_slot(kind: str, db: Database, n: int) -> None:
    now = datetime.now(UTC)
    slot = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    time.sleep(max(0.0, (slot - now).total_seconds() - 0.5))
    cpu_before = cpu_seconds()
    stored = watch(db, slot, n, timeout=55)
    time.sleep(max(0.0, (slot + timedelta(seconds=55) - datetime.now(UTC)).total_seconds()))
    cpu = cpu_seconds() - cpu_before
    found = lags(db, slot)
    exactly_once = len(found) == n
    shown = f"{stored:.3f}" if stored is not None else "never"
    print(
        f"[{kind}] slot {slot:%H:%M}: {len(found)} runs (exactly once: {exactly_once}); "
        f"lag p50 {statistics.median(found):.3f} s, p99 {percentile(found, 0.99):.3f} s, "
        f"max {found[-1]:.3f} s; all stored at +{shown} s; "
        f"CPU {cpu:.2f} s over the minute",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--slots", type=int, default=2, help="minutes measured per database")
    args = parser.parse_args()
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        bench(kind, args.jobs, args.slots)


if __name__ == "__main__":
    main()
