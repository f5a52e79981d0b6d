"""What to do with one claimed schedule: pure, the clock passed in.

Wraps schedules.plan_firing with what the stored row adds: a schedule seen for
the first time, or whose cron or time zone changed, starts from now (no burst
of slots the old schedule missed); the suspend switch suspends like the spec's
own `suspended`; and when the scheduler should look at the row next.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sparkjobs import schedules
from sparkjobs.store import repo


@dataclass(frozen=True, kw_only=True)
class Decision:
    job: str
    fire: tuple[schedules.FireSlot, ...] = ()
    skipped: tuple[schedules.SkippedSlots, ...] = ()
    stop_active: bool = False
    update: repo.ScheduleUpdate


def schedule_key(spec: schedules.ScheduleSpec) -> str:
    """What decided_through belongs to: the slots' cron and zone, not the policies."""
    return json.dumps({"cron": spec.cron, "timezone": spec.timezone}, sort_keys=True)


def effective_spec(
    spec: schedules.ScheduleSpec, state: repo.ScheduleState | None
) -> schedules.ScheduleSpec:
    """The spec with the suspend switch applied (either one suspends)."""
    if state is not None and state.suspended and not spec.suspended:
        return spec.model_copy(update={"suspended": True})
    return spec


def decide(
    claimed: repo.ClaimedSchedule, now: datetime, *, active_run: bool, recheck: timedelta
) -> Decision:
    """The plan for one schedule, and what its row becomes.

    `recheck`: when slots stay due but undecided (forbid waits for the active run),
    the row is looked at again this much later instead of at once.
    """
    job, state = claimed.job, claimed.state
    spec = job.spec.schedule
    if spec is None:
        return Decision(job=job.name, update=_update(claimed, None, None, None))
    key = schedule_key(spec)
    last = state.decided_through if state.schedule_key == key else None
    spec = effective_spec(spec, state)
    plan = schedules.plan_firing(spec, last_slot=last, now=now, active_run=active_run)
    next_due = None if spec.suspended else schedules.next_due(spec, plan.decided_through, now)
    if next_due is not None and next_due <= now:
        next_due = now + recheck
    return Decision(
        job=job.name,
        fire=plan.fire,
        skipped=plan.skipped,
        stop_active=plan.stop_active,
        update=_update(claimed, key, plan.decided_through, next_due),
    )


def _update(
    claimed: repo.ClaimedSchedule,
    key: str | None,
    decided_through: datetime | None,
    next_due: datetime | None,
) -> repo.ScheduleUpdate:
    return repo.ScheduleUpdate(
        job=claimed.job.name,
        job_version=claimed.job.version,
        schedule_key=key,
        decided_through=decided_through,
        next_due=next_due,
    )


def history(
    decision: Decision, inserted: dict[datetime, str], at: datetime
) -> list[repo.HistoryEntry]:
    """History entries: each slot that got a run here, and each skipped range.

    `inserted` maps the slots this server inserted a run for to the run's id; a
    slot another server fired first is recorded by that server.
    """
    entries = [
        repo.HistoryEntry(
            job=decision.job,
            kind="fired",
            first=f.slot,
            last=f.slot,
            count=1,
            run_id=inserted[f.slot],
            reason=f.note,
            at=at,
        )
        for f in decision.fire
        if f.slot in inserted
    ]
    entries += [
        repo.HistoryEntry(
            job=decision.job,
            kind="skipped",
            first=r.first,
            last=r.last,
            count=r.count,
            run_id=None,
            reason=r.reason,
            at=at,
        )
        for r in decision.skipped
    ]
    return sorted(entries, key=lambda e: e.first)  # in slot order, as a person reads them
