"""Starting runs: claim queued ones within the limit, resolve their inputs, submit them."""

from __future__ import annotations

import contextlib
import logging
from concurrent.futures import Executor
from datetime import datetime

from sparkjobs import errors, runs
from sparkjobs.backends import spark_env
from sparkjobs.runs import RunState
from sparkjobs.store import repo
from sparkjobs.supervisor import planning
from sparkjobs.supervisor.context import Context, append_log
from sparkjobs.supervisor.ending import Ender

log = logging.getLogger(__name__)


class Launcher:
    def __init__(self, ctx: Context, ender: Ender, executor: Executor) -> None:
        self._ctx = ctx
        self._ender = ender
        #: Resolving inputs (downloads, git clones, builds) can take minutes: it runs on
        #: these threads so that one slow input never holds up watching the other runs.
        self._executor = executor
        self._planner = planning.Planner(ctx.settings, ctx.db, ctx.box)
        #: Runs claimed by this process whose launch has not finished yet.
        self.in_flight: set[str] = set()

    def start_queued(self) -> None:
        """Claim as many queued runs as there is room for and launch them."""
        ctx = self._ctx
        now = ctx.clock()
        with ctx.db.session() as s:
            busy = repo.count_runs_in_states(s, runs.LAUNCHED, owner=ctx.instance_id)
            free = ctx.settings.max_concurrent_runs - busy
            if free <= 0:
                return
            # Only runs whose time has come, of backends this server has (another server
            # takes the rest), and no more than there is room for: a backlog of thousands
            # of runs decided ahead costs one small query a pass.
            queued = repo.runs_in_states(
                s, [RunState.QUEUED], backends=list(ctx.backends), ready_by=now, limit=free
            )
        for run in queued:
            if free <= 0:
                return
            claimed = self._claim(run, now)
            if claimed is not None:
                free -= 1
                self.in_flight.add(claimed.id)
                self._executor.submit(self._launch_guarded, claimed)

    def _claim(self, run: runs.Run, now: datetime) -> runs.Run | None:
        ctx = self._ctx
        try:
            with ctx.db.session() as s:
                return repo.transition(
                    s, run.id, RunState.QUEUED, RunState.STARTING,
                    f"picked up by {ctx.instance_id}", now, owner=ctx.instance_id,
                )  # fmt: skip
        except (errors.StaleState, errors.RunNotFound):
            # Another server claimed it, it was stopped, or the scheduler withdrew it.
            return None

    def _launch_guarded(self, run: runs.Run) -> None:
        try:
            self._launch(run)
        except Exception as exc:
            log.exception("launching run %s failed", run.id)
            with contextlib.suppress(errors.SparkJobsError):
                self._end_launch(run, f"internal error while starting: {exc}")
        finally:
            self.in_flight.discard(run.id)
            self._ctx.wake()

    def _launch(self, run: runs.Run) -> None:
        """Resolve the run's inputs and hand it to its backend (on a launcher thread)."""
        ctx = self._ctx
        work_dir, log_path = ctx.work_dir(run.id), ctx.log_path(run.id)
        try:
            work_dir.mkdir(parents=True, exist_ok=True)
            with ctx.db.session() as s:
                spec = repo.get_job_spec(s, run.job, run.job_version)
            planned = self._planner.plan(
                run,
                spec,
                work_dir=work_dir,
                spark_submit=self._spark_submit(run.backend),
                extra_conf=self._backend_conf(run.backend),
                log=lambda text: append_log(log_path, text),
            )
            plan = planned.plan
            ctx.redactors.remember(run.id, plan.secrets)
            if run.backend == "local":
                plan = planning.with_executor_env(plan, work_dir)
            if ctx.fresh(run).state is RunState.STOPPING:
                self._end_launch(run, "stopped before it started")
                return
            handle = ctx.backends[run.backend].submit(plan, work_dir=work_dir, log_path=log_path)
        except (errors.SparkJobsError, OSError) as exc:
            cause = ctx.redactors.get(run).mask(str(exc))  # stored: a secret must not get in
            append_log(log_path, f"sparkjobs: the run could not start: {cause}\n")
            self._end_launch(run, f"could not start: {cause}")
            return
        with ctx.db.session() as s:
            for text in planned.notes:
                repo.add_note(s, run.id, text, ctx.clock())
            repo.update_run(s, run.id, handle=handle, started_at=ctx.clock())

    def _end_launch(self, run: runs.Run, reason: str) -> None:
        """A launch that did not reach the backend: failed, or stopped if a stop came meanwhile."""
        fresh = self._ctx.fresh(run)
        stopped = fresh.state is RunState.STOPPING
        target = RunState.STOPPED if stopped else RunState.FAILED
        self._ender.finish(fresh, target, "stopped before it started" if stopped else reason, None)

    def _spark_submit(self, backend: str) -> str:
        if backend != "local":
            return "spark-submit"  # the backend places it (e.g. inside the image)
        return spark_env.spark_submit_path(self._ctx.settings)

    def _backend_conf(self, backend: str) -> dict[str, str]:
        # A local driver (and its UI) binds to loopback unless the settings say otherwise.
        return spark_env.loopback_conf(self._ctx.settings) if backend == "local" else {}
