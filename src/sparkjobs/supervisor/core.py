"""The Supervisor class: requests in, transitions out, one background loop."""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sparkjobs import errors, jobs, runs
from sparkjobs.backends.base import Backend, Observation, Status
from sparkjobs.config import Settings
from sparkjobs.inputs.secrets import SecretBox
from sparkjobs.redact import Redactor
from sparkjobs.runs import RunState
from sparkjobs.store import Database, repo
from sparkjobs.supervisor import alerting, masking, planning, retention

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: A run claimed (STARTING) but without a handle this long was lost between claim and submit.
ORPHAN_START_SECONDS = 60.0
#: How long delete_job waits for a job's active runs to end.
DELETE_WAIT_EXTRA_SECONDS = 10.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_instance_id(settings: Settings) -> str:
    """Stable across restarts of one server, distinct between servers.

    Local runs live on one host, so only the server that launched them may watch them.
    Settings.instance_id replaces it where the host name changes on restart.
    """
    return settings.instance_id or f"{socket.gethostname()}:{settings.data_dir.resolve()}"


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
        self._settings = settings
        self._db = db
        self._backends = dict(backends)
        self._clock = clock or utcnow
        self.instance_id = instance_id or default_instance_id(settings)
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        #: run id -> monotonic time its SIGTERM was sent (escalated to SIGKILL after the grace).
        self._stop_sent: dict[str, float] = {}
        self._lock = threading.Lock()
        #: Resolving inputs (downloads, git clones, builds) can take minutes: it runs on
        #: these threads so that one slow input never holds up watching the other runs.
        self._launcher = launcher or ThreadPoolExecutor(
            max_workers=max(1, settings.max_concurrent_runs), thread_name_prefix="sparkjobs-launch"
        )
        #: Runs claimed by this process whose launch has not finished yet.
        self._in_flight: set[str] = set()
        #: Backends whose runs any server may watch (their state lives in a cluster).
        self._shared = sorted(name for name, b in self._backends.items() if b.shared)
        #: run id -> the pending notes recorded for it (each distinct message once).
        self._said: dict[str, set[str]] = {}
        #: run id -> the last error that kept us from watching it (logged once).
        self._watch_trouble: dict[str, str] = {}
        self._box = SecretBox.from_settings(settings)
        self._planner = planning.Planner(settings, db, self._box)
        self._redactors = masking.Redactors(db, self._box)
        self._alerting = alerting.Alerting(settings, db, self._box, self.log_path, self._clock)
        self._retention = retention.RetentionClock()

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
        self._launcher.shutdown(wait=False, cancel_futures=True)
        self._alerting.close()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._halt.is_set():
            try:
                self.tick()
                if self._retention.due():
                    retention.sweep(
                        self._db, self._settings.logs_dir, days=self._settings.log_retention_days
                    )
            except Exception:
                log.exception("supervisor tick failed; trying again")
            self._wake.wait(self._settings.poll_interval_seconds)
            self._wake.clear()

    def tick(self) -> None:
        """One pass: watch launched runs, then start queued ones. Tests call it directly."""
        with self._lock:
            self._watch_launched()
            self._start_queued()

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
        jobs.check_conf(overrides.conf or {}, self._settings.allowed_conf_keys)
        with self._db.session() as s:
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
            created_at=self._clock(),
            parent_id=parent_id,
            scheduled_for=scheduled_for,
            backend=job.spec.backend or self._settings.default_backend,
        )

    def rerun(self, run_id: str, overrides: runs.RunOverrides | None) -> runs.Run:
        """A new run of the same job version; overrides default to the original run's."""
        with self._db.session() as s:
            original = repo.get_run(s, run_id)
            chosen = (
                overrides if overrides is not None and overrides.as_dict() else original.overrides
            )
            jobs.check_conf(chosen.conf or {}, self._settings.allowed_conf_keys)
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
                created_at=self._clock(),
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
        with self._db.session() as s:
            run = repo.get_run(s, run_id)
            if run.state in runs.TERMINAL or run.state is RunState.STOPPING:
                if run.state is RunState.STOPPING:
                    return run
                raise errors.InvalidTransition(f"run {run_id} has already ended ({run.state})")
            now = self._clock()
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
        with self._db.session() as s:
            repo.get_job(s, name)
            active, _ = repo.list_runs(s, job=name, states=runs.ACTIVE, limit=1000)
        for run in active:
            with contextlib.suppress(errors.Conflict):  # it ended meanwhile
                self.request_stop(run.id)
        deadline = time.monotonic() + self._settings.stop_grace_seconds + DELETE_WAIT_EXTRA_SECONDS
        while active and time.monotonic() < deadline:
            time.sleep(min(0.2, self._settings.poll_interval_seconds))
            with self._db.session() as s:
                active, _ = repo.list_runs(s, job=name, states=runs.ACTIVE, limit=1000)
        if active:
            raise errors.Conflict(f"job '{name}' still has runs stopping; try again in a moment")
        with self._db.session() as s:
            repo.delete_job(s, name)

    @property
    def box(self) -> SecretBox:
        """Seals secrets before they are stored (supervisor.specs), opens them for runs."""
        return self._box

    def redactor(self, run: runs.Run) -> Redactor:
        """Masks the run's secrets (and URL passwords) in its log, reason and events."""
        return self._redactors.get(run)

    def log_path(self, run_id: str) -> Path:
        return self._settings.logs_dir / f"{run_id}.log"

    def work_dir(self, run_id: str) -> Path:
        return self._settings.runs_dir / run_id

    def effective_args(self, run: runs.Run) -> list[str]:
        with self._db.session() as s:
            spec = repo.get_job_spec(s, run.job, run.job_version)
        return planning.effective_args(run, spec)

    # -- starting ------------------------------------------------------------------------------

    def _start_queued(self) -> None:
        now = self._clock()
        with self._db.session() as s:
            busy = repo.count_runs_in_states(s, runs.LAUNCHED, owner=self.instance_id)
            queued = repo.runs_in_states(s, [RunState.QUEUED])
        free = self._settings.max_concurrent_runs - busy
        for run in queued:
            if free <= 0:
                return
            if run.not_before is not None and run.not_before > now:
                continue
            if run.backend not in self._backends:
                continue  # another server with that backend will take it
            claimed = self._claim(run, now)
            if claimed is not None:
                free -= 1
                self._in_flight.add(claimed.id)
                self._launcher.submit(self._launch_guarded, claimed)

    def _claim(self, run: runs.Run, now: datetime) -> runs.Run | None:
        try:
            with self._db.session() as s:
                return repo.transition(
                    s,
                    run.id,
                    RunState.QUEUED,
                    RunState.STARTING,
                    f"picked up by {self.instance_id}",
                    now,
                    owner=self.instance_id,
                )
        except errors.StaleState:
            return None  # another server claimed it, or it was stopped

    def _launch_guarded(self, run: runs.Run) -> None:
        try:
            self._launch(run)
        except Exception as exc:
            log.exception("launching run %s failed", run.id)
            with contextlib.suppress(errors.SparkJobsError):
                self._end_launch(run, f"internal error while starting: {exc}")
        finally:
            self._in_flight.discard(run.id)
            self.wake()

    def _launch(self, run: runs.Run) -> None:
        """Resolve the run's inputs and hand it to its backend (on a launcher thread)."""
        backend = self._backends[run.backend]
        work_dir, log_path = self.work_dir(run.id), self.log_path(run.id)

        def note(text: str) -> None:
            self._append_log(log_path, text)

        try:
            work_dir.mkdir(parents=True, exist_ok=True)
            with self._db.session() as s:
                spec = repo.get_job_spec(s, run.job, run.job_version)
            planned = self._planner.plan(
                run,
                spec,
                work_dir=work_dir,
                spark_submit=self._spark_submit(run.backend),
                extra_conf=self._backend_conf(run.backend),
                log=note,
            )
            plan = planned.plan
            self._redactors.remember(run.id, plan.secrets)
            if run.backend == "local":
                plan = planning.with_executor_env(plan, work_dir)
            if self._fresh(run).state is RunState.STOPPING:
                self._end_launch(run, "stopped before it started")
                return
            handle = backend.submit(plan, work_dir=work_dir, log_path=log_path)
        except (errors.SparkJobsError, OSError) as exc:
            cause = self.redactor(run).mask(str(exc))  # stored: a secret must not get in
            note(f"sparkjobs: the run could not start: {cause}\n")
            self._end_launch(run, f"could not start: {cause}")
            return
        with self._db.session() as s:
            for text in planned.notes:
                repo.add_note(s, run.id, text, self._clock())
            repo.update_run(s, run.id, handle=handle, started_at=self._clock())

    def _fresh(self, run: runs.Run) -> runs.Run:
        with self._db.session() as s:
            return repo.get_run(s, run.id)

    def _end_launch(self, run: runs.Run, reason: str) -> None:
        """A launch that did not reach the backend: failed, or stopped if a stop came meanwhile."""
        fresh = self._fresh(run)
        stopped = fresh.state is RunState.STOPPING
        target = RunState.STOPPED if stopped else RunState.FAILED
        self._finish(fresh, target, "stopped before it started" if stopped else reason, None)

    def _spark_submit(self, backend: str) -> str:
        if backend != "local":
            return "spark-submit"  # the backend places it (e.g. inside the image)
        from sparkjobs.backends import spark_env

        return spark_env.spark_submit_path(self._settings)

    def _backend_conf(self, backend: str) -> dict[str, str]:
        if backend != "local":
            return {}
        from sparkjobs.backends import spark_env

        return spark_env.loopback_conf(self._settings)

    @staticmethod
    def _append_log(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(text)

    # -- watching ------------------------------------------------------------------------------

    def _watch_launched(self) -> None:
        with self._db.session() as s:
            launched = repo.runs_in_states(s, runs.LAUNCHED, owner=self.instance_id)
            # The server that launched a shared backend's run may be gone for good: every
            # server watches those runs; compare-and-set lets only one record each change.
            for name in self._shared:
                theirs = repo.runs_in_states(s, runs.LAUNCHED, backend=name)
                launched += [r for r in theirs if r.owner != self.instance_id]
        for run in launched:
            try:
                self._watch(run)
                self._watch_trouble.pop(run.id, None)
            except errors.StaleState:
                continue  # changed meanwhile (a stop request); next tick sees the new state
            except errors.SparkJobsError as exc:  # the backend cannot look now (API down)
                if self._watch_trouble.get(run.id) != exc.message:
                    log.warning("cannot watch run %s now, will retry: %s", run.id, exc.message)
                self._watch_trouble[run.id] = exc.message

    def _watch(self, run: runs.Run) -> None:
        backend = self._backends.get(run.backend)
        if backend is None:
            return
        if run.handle is None:
            if run.owner == self.instance_id:  # another server's launch is its own business
                self._watch_unhandled(run)
            return
        obs = backend.poll(run.handle)
        run = self._record_spark_ids(run, obs)
        if run.state is RunState.STOPPING:
            self._drive_stop(run, backend, obs)
        elif obs.status is Status.EXITED:
            self._exited(run, obs)
        elif obs.status is Status.NOT_FOUND:
            reason = obs.message or "the backend no longer knows this run"
            self._finish(run, RunState.LOST, reason, exit_code=None)
        else:
            if obs.status is Status.PENDING and obs.message:
                self._note_pending(run, obs.message)
            if obs.status is Status.RUNNING and run.state is RunState.STARTING:
                run = self._move(run, RunState.RUNNING, "the driver is up")
                self._alerting.run_started(run)
            self._check_timeout(run)

    def _note_pending(self, run: runs.Run, message: str) -> None:
        """Why the run is not up yet (an image it cannot pull...): one note per distinct text."""
        text = f"pending: {self.redactor(run).mask(message)}"
        said = self._said.setdefault(run.id, set())
        if text in said:
            return
        said.add(text)
        with self._db.session() as s:  # another server, or this one before a restart, may have
            if all(event.reason != text for event in repo.list_events(s, run.id)):
                repo.add_note(s, run.id, text, self._clock())

    def _watch_unhandled(self, run: runs.Run) -> None:
        """Claimed but never handed over: still launching, or the server died meanwhile."""
        if run.id in self._in_flight:
            return  # the launcher thread decides (it checks for a stop before submitting)
        age = (self._clock() - (run.started_at or run.created_at)).total_seconds()
        if run.state is RunState.STOPPING:
            self._finish(run, RunState.STOPPED, "stopped before it started", exit_code=None)
        elif age > ORPHAN_START_SECONDS and run.id not in self._stop_sent:
            self._finish(run, RunState.LOST, "the server stopped before the run was started", None)

    def _record_spark_ids(self, run: runs.Run, obs: Observation) -> runs.Run:
        fields = {}
        if obs.spark_app_id and obs.spark_app_id != run.spark_app_id:
            fields["spark_app_id"] = obs.spark_app_id
        if obs.spark_ui_url and obs.spark_ui_url != run.spark_ui_url:
            fields["spark_ui_url"] = obs.spark_ui_url
        if not fields:
            return run
        with self._db.session() as s:
            return repo.update_run(s, run.id, **fields)

    def _exited(self, run: runs.Run, obs: Observation) -> None:
        if obs.exit_code == 0:
            self._finish(run, RunState.SUCCEEDED, "exit code 0", exit_code=0)
            return
        if obs.exit_code is None:  # ended without a process exit (a pod that never started)
            reason = obs.message or "ended without an exit code"
        else:
            reason = f"exit code {obs.exit_code}"
            if obs.message:
                reason = f"{reason}: {obs.message}"
        self._finish(run, RunState.FAILED, reason, exit_code=obs.exit_code)

    def _check_timeout(self, run: runs.Run) -> None:
        with self._db.session() as s:
            spec = repo.get_job_spec(s, run.job, run.job_version)
        limit = spec.timeout_seconds
        began = run.started_at or run.created_at
        if limit is None or self._clock() - began < timedelta(seconds=limit):
            return
        reason = f"timed out after {limit} s"
        with self._db.session() as s:
            repo.transition(s, run.id, run.state, RunState.STOPPING, reason, self._clock())
        self.wake()

    def _drive_stop(self, run: runs.Run, backend: Backend, obs: Observation) -> None:
        """SIGTERM once, SIGKILL after the grace period, then the final state."""
        ended = obs.status in (Status.EXITED, Status.NOT_FOUND)
        if ended:
            timed_out = (run.reason or "").startswith("timed out")
            target = RunState.TIMED_OUT if timed_out else RunState.STOPPED
            self._finish(
                run, target, run.reason if timed_out else "stopped on request", obs.exit_code
            )
            return
        assert run.handle is not None
        sent = self._stop_sent.get(run.id)
        if sent is None:
            backend.stop(run.handle)
            self._stop_sent[run.id] = time.monotonic()
        elif time.monotonic() - sent > self._settings.stop_grace_seconds:
            backend.stop(run.handle, force=True)

    # -- ending --------------------------------------------------------------------------------

    def _move(self, run: runs.Run, target: RunState, reason: str) -> runs.Run:
        with self._db.session() as s:
            return repo.transition(s, run.id, run.state, target, reason, self._clock())

    def _finish(
        self, run: runs.Run, target: RunState, reason: str | None, exit_code: int | None
    ) -> None:
        now = self._clock()
        reason = reason or str(target)
        with self._db.session() as s:
            repo.transition(
                s,
                run.id,
                run.state,
                target,
                reason,
                now,
                finished_at=now,
                exit_code=exit_code,
            )
        self._stop_sent.pop(run.id, None)
        self._said.pop(run.id, None)
        self._watch_trouble.pop(run.id, None)
        self._cleanup(run)
        if target in RETRYABLE:
            self._maybe_retry(run, now)
        self._alerting.run_ended(run.id)

    def _cleanup(self, run: runs.Run) -> None:
        backend = self._backends.get(run.backend)
        work_dir = self.work_dir(run.id)
        try:
            if backend is not None and run.handle is not None:
                backend.cleanup(run.handle, work_dir=work_dir)
        except Exception:
            log.exception("cleanup of run %s failed", run.id)
        shutil.rmtree(work_dir, ignore_errors=True)

    def _maybe_retry(self, run: runs.Run, now: datetime) -> None:
        with self._db.session() as s:
            spec = repo.get_job_spec(s, run.job, run.job_version)
            policy = spec.retries
            if run.attempt >= policy.max_attempts:
                return
            attempt = run.attempt + 1
            delay = policy.delay_before(attempt)
            retry = runs.Run(
                id=repo.new_run_id(),
                job=run.job,
                job_version=run.job_version,
                state=RunState.QUEUED,
                trigger=runs.Trigger.RETRY,
                attempt=attempt,
                overrides=run.overrides,
                created_at=now,
                not_before=now + timedelta(seconds=delay),
                parent_id=run.id,
                backend=run.backend,
            )
            repo.insert_run(s, retry)
        self.wake()


#: Outcomes that a retry policy answers with a new attempt.
RETRYABLE = frozenset({RunState.FAILED, RunState.TIMED_OUT, RunState.LOST})
