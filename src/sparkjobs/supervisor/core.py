"""The Supervisor: requests in, transitions out, one background loop.

It composes three parts that share a Context: the Launcher (claims queued
runs and hands them to backends), the Watcher (turns observations into
transitions, drives stops and timeouts) and the Ender (final transition,
cleanup, retries, alerts). Only these parts change run states.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sparkjobs import errors, jobs, runs
from sparkjobs.backends.base import Backend
from sparkjobs.config import Settings
from sparkjobs.inputs.secrets import SecretBox
from sparkjobs.redact import Redactor
from sparkjobs.runs import RunState
from sparkjobs.store import Database, repo
from sparkjobs.supervisor import alerting, masking, planning, retention
from sparkjobs.supervisor.context import Clock, Context, default_instance_id, utcnow
from sparkjobs.supervisor.ending import Ender
from sparkjobs.supervisor.launching import Launcher
from sparkjobs.supervisor.watching import Watcher

log = logging.getLogger(__name__)

#: How long delete_job waits for a job's active runs to end.
DELETE_WAIT_EXTRA_SECONDS = 10.0


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        backends: Mapping[str, Backend],
        *,
        clock: Clock | None = None,
        instance_id: str | None = None,
        launcher: Executor | None = None,
    ) -> None:
        clock = clock or utcnow
        box = SecretBox.from_settings(settings)
        self._ctx = Context(
            settings=settings,
            db=db,
            backends=dict(backends),
            clock=clock,
            instance_id=instance_id or default_instance_id(settings),
            box=box,
            redactors=masking.Redactors(db, box),
            alerting=alerting.Alerting(settings, db, box, self.log_path, clock),
            wake=self.wake,
        )
        self.instance_id = self._ctx.instance_id
        self._executor = launcher or ThreadPoolExecutor(
            max_workers=max(1, settings.max_concurrent_runs), thread_name_prefix="sparkjobs-launch"
        )
        ender = Ender(self._ctx)
        self._launcher = Launcher(self._ctx, ender, self._executor)
        self._watcher = Watcher(self._ctx, ender, self._launcher.in_flight)
        self._retention = retention.RetentionClock()
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background loop; its first tick reattaches runs an earlier process left."""
        self._halt.clear()
        self._thread = threading.Thread(target=self._loop, name="sparkjobs-supervisor", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the loop. Runs keep going; the next start reattaches them."""
        self._halt.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._executor.shutdown(wait=False, cancel_futures=True)
        # A launch under way holds a database connection: let it finish (bounded) so the
        # caller can close the database after us. A slow one (a long clone) is left behind;
        # its run is claimed by this server and the next start sorts it out.
        deadline = time.monotonic() + timeout
        while self._launcher.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        self._ctx.alerting.close()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        settings = self._ctx.settings
        while not self._halt.is_set():
            try:
                self.tick()
                if self._retention.due():
                    retention.sweep(
                        self._ctx.db, settings.logs_dir, days=settings.log_retention_days
                    )
            except Exception:
                log.exception("supervisor tick failed; trying again")
            self._wake.wait(settings.poll_interval_seconds)
            self._wake.clear()

    def tick(self) -> None:
        """One pass: watch launched runs, then start queued ones. Tests call it directly."""
        with self._lock:
            self._watcher.watch_launched()
            self._launcher.start_queued()

    # -- requests (called by the API, the CLI server and the scheduler) ---------------------

    def request_run(
        self,
        job: str,
        overrides: runs.RunOverrides,
        *,
        trigger: runs.Trigger = runs.Trigger.API,
        parent_id: str | None = None,
        scheduled_for: datetime | None = None,
    ) -> runs.Run:
        """Store a queued run of the job's current version and wake the loop."""
        jobs.check_conf(overrides.conf or {}, self._ctx.settings.allowed_conf_keys)
        with self._ctx.db.session() as s:
            current = repo.get_job(s, job)
            run = repo.insert_run(
                s, self._new_run(current, overrides, trigger, parent_id, scheduled_for)
            )
        self.wake()
        return run

    def _new_run(
        self,
        job: jobs.Job,
        overrides: runs.RunOverrides,
        trigger: runs.Trigger,
        parent_id: str | None,
        scheduled_for: datetime | None,
    ) -> runs.Run:
        return runs.Run(
            id=repo.new_run_id(),
            job=job.name,
            job_version=job.version,
            state=RunState.QUEUED,
            trigger=trigger,
            overrides=overrides,
            created_at=self._ctx.clock(),
            parent_id=parent_id,
            scheduled_for=scheduled_for,
            backend=job.spec.backend or self._ctx.settings.default_backend,
        )

    def rerun(self, run_id: str, overrides: runs.RunOverrides | None) -> runs.Run:
        """A new run of the same job version; overrides default to the original run's."""
        with self._ctx.db.session() as s:
            original = repo.get_run(s, run_id)
            chosen = (
                overrides if overrides is not None and overrides.as_dict() else original.overrides
            )
            jobs.check_conf(chosen.conf or {}, self._ctx.settings.allowed_conf_keys)
            run = replace(
                original,
                id=repo.new_run_id(),
                state=RunState.QUEUED,
                trigger=runs.Trigger.RERUN,
                attempt=1,
                overrides=chosen,
                exit_code=None,
                reason=None,
                spark_app_id=None,
                spark_ui_url=None,
                created_at=self._ctx.clock(),
                started_at=None,
                finished_at=None,
                not_before=None,
                parent_id=original.id,
                scheduled_for=None,
                handle=None,
                owner=None,
            )
            run = repo.insert_run(s, run)
        self.wake()
        return run

    def request_stop(self, run_id: str) -> runs.Run:
        """Ask a run to stop: queued runs stop at once, launched ones via STOPPING."""
        with self._ctx.db.session() as s:
            run = repo.get_run(s, run_id)
            if run.state in runs.TERMINAL or run.state is RunState.STOPPING:
                if run.state is RunState.STOPPING:
                    return run
                raise errors.InvalidTransition(f"run {run_id} has already ended ({run.state})")
            now = self._ctx.clock()
            if run.state is RunState.QUEUED:
                run = repo.transition(
                    s,
                    run_id,
                    RunState.QUEUED,
                    RunState.STOPPED,
                    "stopped before it started",
                    now,
                    finished_at=now,
                )
            else:
                run = repo.transition(
                    s, run_id, run.state, RunState.STOPPING, "stop requested", now
                )
        self.wake()
        return run

    def delete_job(self, name: str) -> None:
        """Stop the job's active runs, wait for them to end, then delete the job and its history."""
        with self._ctx.db.session() as s:
            repo.get_job(s, name)
            active, _ = repo.list_runs(s, job=name, states=runs.ACTIVE, limit=1000)
        for run in active:
            with contextlib.suppress(errors.Conflict):  # it ended meanwhile
                self.request_stop(run.id)
        deadline = (
            time.monotonic() + self._ctx.settings.stop_grace_seconds + DELETE_WAIT_EXTRA_SECONDS
        )
        while active and time.monotonic() < deadline:
            time.sleep(min(0.2, self._ctx.settings.poll_interval_seconds))
            with self._ctx.db.session() as s:
                active, _ = repo.list_runs(s, job=name, states=runs.ACTIVE, limit=1000)
        if active:
            raise errors.Conflict(f"job '{name}' still has runs stopping; try again in a moment")
        with self._ctx.db.session() as s:
            repo.delete_job(s, name)

    @property
    def box(self) -> SecretBox:
        """Seals secrets before they are stored (supervisor.specs), opens them for runs."""
        return self._ctx.box

    def redactor(self, run: runs.Run) -> Redactor:
        """Masks the run's secrets (and URL passwords) in its log, reason and events."""
        return self._ctx.redactors.get(run)

    def log_path(self, run_id: str) -> Path:
        return self._ctx.log_path(run_id)

    def work_dir(self, run_id: str) -> Path:
        return self._ctx.work_dir(run_id)

    def effective_args(self, run: runs.Run) -> list[str]:
        with self._ctx.db.session() as s:
            spec = repo.get_job_spec(s, run.job, run.job_version)
        return planning.effective_args(run, spec)
