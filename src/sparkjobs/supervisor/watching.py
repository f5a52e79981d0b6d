"""Watching launched runs: observations in, transitions out; stops and timeouts enforced."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sparkjobs import errors, runs
from sparkjobs.backends.base import Backend, Observation, Status
from sparkjobs.runs import RunState
from sparkjobs.store import repo
from sparkjobs.supervisor.context import Context
from sparkjobs.supervisor.ending import Ender

log = logging.getLogger(__name__)

#: A run claimed (STARTING) but without a handle this long was lost between claim and submit.
ORPHAN_START_SECONDS = 60.0


class Watcher:
    def __init__(self, ctx: Context, ender: Ender, in_flight: set[str]) -> None:
        self._ctx = ctx
        self._ender = ender
        #: Runs this process is still launching (the launcher decides about those).
        self._in_flight = in_flight
        #: Backends whose runs any server may watch (their state lives in a cluster).
        self._shared = sorted(name for name, b in ctx.backends.items() if b.shared)
        #: run id -> monotonic time its SIGTERM was sent (escalated to SIGKILL after the grace).
        self._stop_sent: dict[str, float] = {}
        #: run id -> the pending notes recorded for it (each distinct message once).
        self._said: dict[str, set[str]] = {}
        #: run id -> the last error that kept us from watching it (logged once).
        self._trouble: dict[str, str] = {}
        ender.forgetters.append(self._forget)

    def _forget(self, run_id: str) -> None:
        self._stop_sent.pop(run_id, None)
        self._said.pop(run_id, None)
        self._trouble.pop(run_id, None)

    def watch_launched(self) -> None:
        """Poll every launched run this server may watch, and act on what the backend says."""
        ctx = self._ctx
        with ctx.db.session() as s:
            launched = repo.runs_in_states(s, runs.LAUNCHED, owner=ctx.instance_id)
            # The server that launched a shared backend's run may be gone for good: every
            # server watches those runs; compare-and-set lets only one record each change.
            for name in self._shared:
                theirs = repo.runs_in_states(s, runs.LAUNCHED, backend=name)
                launched += [r for r in theirs if r.owner != ctx.instance_id]
        for run in launched:
            try:
                self._watch(run)
                self._trouble.pop(run.id, None)
            except errors.StaleState:
                continue  # changed meanwhile (a stop request); next tick sees the new state
            except errors.SparkJobsError as exc:  # the backend cannot look now (API down)
                if self._trouble.get(run.id) != exc.message:
                    log.warning("cannot watch run %s now, will retry: %s", run.id, exc.message)
                self._trouble[run.id] = exc.message

    def _watch(self, run: runs.Run) -> None:
        backend = self._ctx.backends.get(run.backend)
        if backend is None:
            return
        if run.handle is None:
            if run.owner == self._ctx.instance_id:  # another server's launch is its business
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
            self._ender.finish(run, RunState.LOST, reason, exit_code=None)
        else:
            self._still_going(run, obs)

    def _still_going(self, run: runs.Run, obs: Observation) -> None:
        if obs.status is Status.PENDING and obs.message:
            self._note_pending(run, obs.message)
        if obs.status is Status.RUNNING and run.state is RunState.STARTING:
            run = self._ctx.move(run, RunState.RUNNING, "the driver is up")
            self._ctx.alerting.run_started(run)
        self._check_timeout(run)

    def _note_pending(self, run: runs.Run, message: str) -> None:
        """Why the run is not up yet (an image it cannot pull...): one note per distinct text."""
        ctx = self._ctx
        text = f"pending: {ctx.redactors.get(run).mask(message)}"
        said = self._said.setdefault(run.id, set())
        if text in said:
            return
        said.add(text)
        with ctx.db.session() as s:  # another server, or this one before a restart, may have
            if all(event.reason != text for event in repo.list_events(s, run.id)):
                repo.add_note(s, run.id, text, ctx.clock())

    def _watch_unhandled(self, run: runs.Run) -> None:
        """Claimed but never handed over: still launching, or the server died meanwhile."""
        if run.id in self._in_flight:
            return  # the launcher thread decides (it checks for a stop before submitting)
        age = (self._ctx.clock() - (run.started_at or run.created_at)).total_seconds()
        if run.state is RunState.STOPPING:
            self._ender.finish(run, RunState.STOPPED, "stopped before it started", None)
        elif age > ORPHAN_START_SECONDS and run.id not in self._stop_sent:
            reason = "the server stopped before the run was started"
            self._ender.finish(run, RunState.LOST, reason, None)

    def _record_spark_ids(self, run: runs.Run, obs: Observation) -> runs.Run:
        fields = {}
        if obs.spark_app_id and obs.spark_app_id != run.spark_app_id:
            fields["spark_app_id"] = obs.spark_app_id
        if obs.spark_ui_url and obs.spark_ui_url != run.spark_ui_url:
            fields["spark_ui_url"] = obs.spark_ui_url
        if not fields:
            return run
        with self._ctx.db.session() as s:
            return repo.update_run(s, run.id, **fields)

    def _exited(self, run: runs.Run, obs: Observation) -> None:
        if obs.exit_code == 0:
            self._ender.finish(run, RunState.SUCCEEDED, "exit code 0", exit_code=0)
            return
        if obs.exit_code is None:  # ended without a process exit (a pod that never started)
            reason = obs.message or "ended without an exit code"
        else:
            reason = f"exit code {obs.exit_code}"
            if obs.message:
                reason = f"{reason}: {obs.message}"
        self._ender.finish(run, RunState.FAILED, reason, exit_code=obs.exit_code)

    def _check_timeout(self, run: runs.Run) -> None:
        ctx = self._ctx
        with ctx.db.session() as s:
            limit = repo.get_job_spec(s, run.job, run.job_version).timeout_seconds
        began = run.started_at or run.created_at
        if limit is None or ctx.clock() - began < timedelta(seconds=limit):
            return
        ctx.move(run, RunState.STOPPING, f"timed out after {limit} s")
        ctx.wake()

    def _drive_stop(self, run: runs.Run, backend: Backend, obs: Observation) -> None:
        """SIGTERM once, SIGKILL after the grace period, then the final state."""
        if obs.status in (Status.EXITED, Status.NOT_FOUND):
            timed_out = (run.reason or "").startswith("timed out")
            target = RunState.TIMED_OUT if timed_out else RunState.STOPPED
            reason = run.reason if timed_out else "stopped on request"
            self._ender.finish(run, target, reason, obs.exit_code)
            return
        assert run.handle is not None
        sent = self._stop_sent.get(run.id)
        if sent is None:
            backend.stop(run.handle)
            self._stop_sent[run.id] = time.monotonic()
        elif time.monotonic() - sent > self._ctx.settings.stop_grace_seconds:
            backend.stop(run.handle, force=True)
