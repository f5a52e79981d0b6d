"""What to do with one claimed schedule: pure, the clock passed in.

Wraps schedules.plan_firing with what the stored row adds: a schedule seen for
the first time, or whose cron or time zone changed, starts from now (no burst
of slots the old schedule missed); the suspend switch suspends like the spec's
own `suspended`; and when the scheduler should look at the row next.

Deciding ahead: a schedule whose concurrency_policy is "allow" fires every slot
whatever else runs, so its next slot is decided up to `ahead` before it comes:
the run is stored queued with not_before = the slot, and the supervisor starts
it at the slot. The lag from slot to stored run is then zero however many
schedules share the slot. forbid and replace depend on the run active at the
slot, so they are decided at the slot, as before. When the job changes (or its
schedule is suspended) before a slot decided ahead has come, that run is
withdrawn and the slot decided again from the new spec.
"""

from __future__ import annotations

import dataclasses
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
    #: Withdraw the runs decided ahead for slots after this instant (the job changed).
    withdraw_after: datetime | None = None


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
    claimed: repo.ClaimedSchedule,
    now: datetime,
    *,
    active_run: bool,
    recheck: timedelta,
    ahead: timedelta = timedelta(0),
) -> Decision:
    """The plan for one schedule, and what its row becomes.

    `recheck`: when slots stay due but undecided (forbid waits for the active run),
    the row is looked at again this much later instead of at once. `ahead`: how
    long before its slot an "allow" schedule's next slot is decided (see above).
    """
    job, state = claimed.job, claimed.state
    spec = job.spec.schedule
    withdraw = _withdraw_after(claimed, now)
    if spec is None:
        return Decision(
            job=job.name, update=_update(claimed, None, None, None), withdraw_after=withdraw
        )
    key = schedule_key(spec)
    last = state.decided_through if state.schedule_key == key else None
    if withdraw is not None and last is not None:
        last = min(last, withdraw)
    spec = effective_spec(spec, state)
    plan = schedules.plan_firing(spec, last_slot=last, now=now, active_run=active_run)
    plan = _ahead(spec, plan, now, ahead)
    return Decision(
        job=job.name,
        fire=plan.fire,
        skipped=plan.skipped,
        stop_active=plan.stop_active,
        update=_update(
            claimed, key, plan.decided_through, _next_due(spec, plan, now, recheck, ahead)
        ),
        withdraw_after=withdraw,
    )


def _withdraw_after(claimed: repo.ClaimedSchedule, now: datetime) -> datetime | None:
    """`now` when the job changed after a slot still to come was decided ahead."""
    state = claimed.state
    through = state.decided_through
    changed = state.job_version != claimed.job.version
    return now if changed and through is not None and through > now else None


def may_decide_ahead(spec: schedules.ScheduleSpec) -> bool:
    """Whether the next slot may be decided before it comes (nothing at the slot matters)."""
    return spec.concurrency_policy == "allow" and not spec.suspended


def _ahead(
    spec: schedules.ScheduleSpec, plan: schedules.FiringPlan, now: datetime, ahead: timedelta
) -> schedules.FiringPlan:
    """The plan, plus the next slot if it comes within `ahead` and may be decided now."""
    if not ahead or not may_decide_ahead(spec):
        return plan
    upcoming = schedules.next_due(spec, plan.decided_through, now)
    if upcoming is None or not now < upcoming <= now + ahead:
        return plan
    early = schedules.plan_firing(
        spec, last_slot=plan.decided_through, now=upcoming, active_run=False
    )
    return dataclasses.replace(
        plan,
        fire=plan.fire + early.fire,
        skipped=plan.skipped + early.skipped,
        decided_through=early.decided_through,
    )


def _next_due(
    spec: schedules.ScheduleSpec,
    plan: schedules.FiringPlan,
    now: datetime,
    recheck: timedelta,
    ahead: timedelta,
) -> datetime | None:
    """When the row has work next: its next slot, `ahead` earlier if it may be decided ahead."""
    if spec.suspended:
        return None
    upcoming = schedules.next_due(spec, plan.decided_through, now)
    if upcoming is None:
        return None
    if upcoming <= now:
        return now + recheck  # due but left undecided (forbid waits for the active run)
    return upcoming - ahead if may_decide_ahead(spec) else upcoming


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
