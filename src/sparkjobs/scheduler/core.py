"""The Scheduler: due cron slots become queued runs, each slot exactly once.

Each tick claims due schedules with a lease (in batches), decides each one
(scheduler.decide), stops active runs that `replace` supersedes, and then, in
ONE transaction per batch, inserts the runs, records the history and stores
how far each schedule is decided. A server killed mid-batch leaves nothing
half done. Two servers (or a restarted one) that decide the same slot both try
to insert it; the runs' UNIQUE(job_name, scheduled_for) lets one row in and the
other insert is skipped, so every slot fires once.

Runs are inserted here, not through Supervisor.request_run, so that a batch is
one transaction instead of one per slot (10,000 slots due at once would take
seconds otherwise); the supervisor is woken afterwards and starts them.

Schedules whose concurrency_policy is "allow" are decided AHEAD seconds before
their slot (see scheduler.decide): their runs are stored queued with
not_before = the slot, and the loop wakes the supervisor at the slot to start
them. So 10,000 schedules sharing a slot are all stored before it comes.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sparkjobs import errors, runs
from sparkjobs.config import Settings
from sparkjobs.scheduler import decide as decide_module
from sparkjobs.scheduler.decide import Decision
from sparkjobs.store import Database, repo
from sparkjobs.supervisor import Supervisor

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: Schedules claimed (and committed) together.
BATCH = 500
#: Batches per tick at most; the rest wait for the next tick.
MAX_BATCHES = 200
#: The loop never sleeps less than this (a slot due while another server holds it).
MIN_PAUSE_SECONDS = 0.01
#: How long before its slot an "allow" schedule is decided and its run stored.
#: Deciding 10,000 schedules takes about a second here; the rest is margin. A
#: change to a job saved less than about a tick before such a slot may apply
#: from the next slot on (the run decided ahead is withdrawn only if the change
#: is seen before the slot).
AHEAD_SECONDS = 5.0


class Scheduler:
    """See the module docstring. `tick()` is one pass (tests call it); start() runs a thread."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        supervisor: Supervisor,
        *,
        clock: Clock | None = None,
        instance_id: str | None = None,
        ahead_seconds: float = AHEAD_SECONDS,
    ) -> None:
        self._settings = settings
        self._db = db
        self._supervisor = supervisor
        self._clock = clock or _utcnow
        self.instance_id = instance_id or supervisor.instance_id
        self._ahead = timedelta(seconds=ahead_seconds)
        #: Slots of runs stored ahead: the loop wakes the supervisor when each comes.
        self._wakes: list[datetime] = []
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._halt.clear()
        self._thread = threading.Thread(target=self._loop, name="sparkjobs-scheduler", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the loop after the current batch; leases it holds run out by themselves."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._halt.is_set():
            self._wake_supervisor()
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed; trying again")
            self._halt.wait(min(self._pause(), self._until_wake()))

    def _wake_supervisor(self) -> None:
        """Wake the supervisor if the slot of a run stored ahead has come."""
        now = self._clock()
        if self._wakes and self._wakes[0] <= now:
            while self._wakes and self._wakes[0] <= now:
                heapq.heappop(self._wakes)
            self._supervisor.wake()

    def _until_wake(self) -> float:
        if not self._wakes:
            return self._settings.scheduler_tick_seconds
        return max((self._wakes[0] - self._clock()).total_seconds(), 0.0)

    def _pause(self) -> float:
        """Until the next schedule is due, at most a tick."""
        longest = self._settings.scheduler_tick_seconds
        try:
            now = self._clock()
            with self._db.session() as s:
                due = repo.earliest_due(s, now)
        except Exception:
            log.exception("the scheduler could not read when the next slot is due")
            return longest
        if due is None:
            return longest
        return min(longest, max((due - now).total_seconds(), MIN_PAUSE_SECONDS))

    # -- one pass ----------------------------------------------------------------------------

    def tick(self) -> int:
        """Decide every due schedule (and every changed job); return how many runs it made."""
        now = self._clock()
        with self._db.session() as s:
            repo.add_missing_schedules(s)
        made = 0
        for _ in range(MAX_BATCHES):
            with self._db.session() as s:
                batch = repo.claim_due_schedules(
                    s, self.instance_id, now, self._settings.schedule_lease_seconds, BATCH
                )
            made += self._handle(batch, now)
            if len(batch) < BATCH or self._halt.is_set():
                break
        if made:
            self._supervisor.wake()
        return made

    def _handle(self, batch: Sequence[repo.ClaimedSchedule], now: datetime) -> int:
        if not batch:
            return 0
        active = self._active_runs(batch)
        recheck = timedelta(seconds=self._settings.scheduler_tick_seconds)
        decisions: list[Decision] = []
        for claimed in batch:
            try:
                decision = decide_module.decide(
                    claimed,
                    now,
                    active_run=bool(active.get(claimed.job.name)),
                    recheck=recheck,
                    ahead=self._ahead,
                )
            except Exception:  # one broken schedule must not hold up the others
                log.exception("deciding the schedule of job %s failed", claimed.job.name)
                continue
            if decision.stop_active:
                self._stop(active.get(claimed.job.name, []))
            decisions.append(decision)
        return self._commit(decisions, {c.job.name: c for c in batch})

    def _active_runs(self, batch: Sequence[repo.ClaimedSchedule]) -> dict[str, list[str]]:
        """Active runs of the jobs whose policy cares (forbid, replace)."""
        names = [
            c.job.name
            for c in batch
            if c.job.spec.schedule is not None and c.job.spec.schedule.concurrency_policy != "allow"
        ]
        with self._db.session() as s:
            return repo.active_runs_of(s, names)

    def _stop(self, run_ids: list[str]) -> None:
        for run_id in run_ids:
            with contextlib.suppress(errors.Conflict, errors.NotFound):  # ended meanwhile
                self._supervisor.request_stop(run_id)

    def _commit(self, decisions: list[Decision], claimed: dict[str, repo.ClaimedSchedule]) -> int:
        """Store the batch in one transaction; if that fails, each schedule on its own."""
        try:
            return self._store(decisions, claimed)
        except Exception:
            log.warning("storing a batch of %d schedules failed; one by one", len(decisions))
        made = 0
        for decision in decisions:
            try:
                made += self._store([decision], claimed)
            except Exception:  # e.g. the job was deleted meanwhile; the lease runs out
                log.exception("storing the schedule of job %s failed", decision.job)
        return made

    def _store(self, decisions: list[Decision], claimed: dict[str, repo.ClaimedSchedule]) -> int:
        at = self._clock()
        new = {
            (d.job, f.slot): self._new_run(claimed[d.job], f.slot, at)
            for d in decisions
            for f in d.fire
        }
        with self._db.session() as s:
            for d in decisions:
                if d.withdraw_after is not None:  # before the inserts: they may reuse its slots
                    repo.withdraw_scheduled_runs(s, d.job, d.withdraw_after)
            inserted = repo.insert_scheduled_runs(s, list(new.values()))
            entries = []
            for d in decisions:
                mine = {
                    f.slot: new[d.job, f.slot].id
                    for f in d.fire
                    if new[d.job, f.slot].id in inserted
                }
                entries += decide_module.history(d, mine, at)
            repo.add_history(s, entries)
            repo.release_schedules(s, self.instance_id, [d.update for d in decisions])
        self._remember_wakes([r.not_before for r in new.values() if r.id in inserted], at)
        return len(inserted)

    def _remember_wakes(self, slots: list[datetime | None], at: datetime) -> None:
        """The distinct future slots of the runs just stored (few: schedules share slots)."""
        known = set(self._wakes)
        for slot in {s for s in slots if s is not None and s > at} - known:
            heapq.heappush(self._wakes, slot)

    def _new_run(self, claimed: repo.ClaimedSchedule, slot: datetime, at: datetime) -> runs.Run:
        job = claimed.job
        return runs.Run(
            id=repo.new_run_id(),
            job=job.name,
            job_version=job.version,
            state=runs.RunState.QUEUED,
            trigger=runs.Trigger.SCHEDULE,
            created_at=at,
            scheduled_for=slot,
            # Decided ahead: the supervisor holds it until its slot.
            not_before=slot if slot > at else None,
            backend=job.spec.backend or self._settings.default_backend,
        )


def _utcnow() -> datetime:
    return datetime.now(UTC)
