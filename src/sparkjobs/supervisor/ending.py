"""Ending a run: the final transition, cleanup, a retry if the policy wants one, alerts."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta

from sparkjobs import runs
from sparkjobs.runs import RunState
from sparkjobs.store import repo
from sparkjobs.supervisor.context import Context

log = logging.getLogger(__name__)

#: Outcomes that a retry policy answers with a new attempt.
RETRYABLE = frozenset({RunState.FAILED, RunState.TIMED_OUT, RunState.LOST})


class Ender:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        #: Called with the run id when a run ends, to drop what was kept in memory for it.
        self.forgetters: list[Callable[[str], None]] = []

    def finish(
        self, run: runs.Run, target: RunState, reason: str | None, exit_code: int | None
    ) -> None:
        """Move `run` (as read, in its state) to the terminal `target` and tidy up after it."""
        ctx = self._ctx
        now = ctx.clock()
        reason = reason or str(target)
        with ctx.db.session() as s:
            repo.transition(
                s, run.id, run.state, target, reason, now, finished_at=now, exit_code=exit_code
            )
        for forget in self.forgetters:
            forget(run.id)
        self._cleanup(run)
        if target in RETRYABLE:
            self._maybe_retry(run, now)
        ctx.alerting.run_ended(run.id)

    def _cleanup(self, run: runs.Run) -> None:
        backend = self._ctx.backends.get(run.backend)
        work_dir = self._ctx.work_dir(run.id)
        try:
            if backend is not None and run.handle is not None:
                backend.cleanup(run.handle, work_dir=work_dir)
        except Exception:
            log.exception("cleanup of run %s failed", run.id)
        shutil.rmtree(work_dir, ignore_errors=True)

    def _maybe_retry(self, run: runs.Run, now: datetime) -> None:
        with self._ctx.db.session() as s:
            policy = repo.get_job_spec(s, run.job, run.job_version).retries
            if run.attempt >= policy.max_attempts:
                return
            attempt = run.attempt + 1
            retry = runs.Run(
                id=repo.new_run_id(),
                job=run.job,
                job_version=run.job_version,
                state=RunState.QUEUED,
                trigger=runs.Trigger.RETRY,
                attempt=attempt,
                overrides=run.overrides,
                created_at=now,
                not_before=now + timedelta(seconds=policy.delay_before(attempt)),
                parent_id=run.id,
                backend=run.backend,
            )
            repo.insert_run(s, retry)
        self._ctx.wake()
