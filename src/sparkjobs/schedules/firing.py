"""What to do with the slots that are due: a pure decision, clock passed in.

The scheduler calls plan_firing with the last slot it decided (fired or
skipped) and stores the plan: one run per fired slot, one history entry per
skipped range, and decided_through as the next call's last_slot.

The rules, in order:

1. A new schedule (last_slot None) starts from now: nothing in the past fires.
   A suspended schedule decides nothing; its slots count as missed on resume.
2. Slots older than starting_deadline_seconds are skipped.
3. The latest due slot is on time when it is at most starting_deadline_seconds
   (or ON_TIME_GRACE when there is no deadline) old; the others are missed.
4. missed_runs: "skip" fires only the on-time slot; "run_once" fires the latest
   slot, on time or not; "catch_up" fires the on-time slot and the latest
   max_catch_up missed ones, oldest first; older ones are skipped as over
   max_catch_up (after a long outage the recent slots matter most).
5. concurrency_policy: "allow" fires them all. "replace" fires only the latest,
   stopping the active run. "forbid" fires one at a time: while a run is
   active, the on-time slot is skipped, but missed slots still to be caught up
   wait (they are not decided); with no active run the oldest fires and the
   others wait for the next call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sparkjobs.schedules import slots as slots_module
from sparkjobs.schedules.spec import ScheduleSpec

#: Without a starting deadline, a slot this old still counts as on time.
ON_TIME_GRACE = timedelta(seconds=60)
#: Skipped ranges count their slots up to this many; beyond, count is None.
COUNT_CAP = 100_000
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, kw_only=True)
class FireSlot:
    """A slot to start a run for (trigger "schedule", scheduled_for = slot)."""

    slot: datetime
    #: False for the on-time slot, True for a missed slot fired late.
    missed: bool
    note: str


@dataclass(frozen=True, kw_only=True)
class SkippedSlots:
    """Consecutive slots skipped for one reason (first == last for one slot)."""

    first: datetime
    last: datetime
    #: None when more than COUNT_CAP slots.
    count: int | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class FiringPlan:
    fire: tuple[FireSlot, ...] = ()
    skipped: tuple[SkippedSlots, ...] = ()
    #: Stop the job's active run before starting the new one (concurrency_policy=replace).
    stop_active: bool = False
    #: Every slot at or before this is decided; pass it as last_slot next time.
    decided_through: datetime


def plan_firing(
    spec: ScheduleSpec, *, last_slot: datetime | None, now: datetime, active_run: bool
) -> FiringPlan:
    """Decide which due slots (slot <= now, after last_slot) fire and which are skipped."""
    now = _utc(now, "now")
    if last_slot is None:
        return FiringPlan(decided_through=now)
    last_slot = _utc(last_slot, "last_slot")
    if spec.suspended:
        return FiringPlan(decided_through=last_slot)
    due = _at_most_one_due(spec, last_slot, now)
    if due is not None:
        return _plan_one(spec, last_slot, due, active_run)
    return _plan_all(spec, last_slot, now, active_run)


def _at_most_one_due(
    spec: ScheduleSpec, last_slot: datetime, now: datetime
) -> list[datetime] | None:
    """The due slots when there are none or one and it is on time, else None.

    The usual call, once a slot: two cached next-slot look-ups instead of the
    general search below (which gives the same plan for these cases).
    """
    first = slots_module.next_slot(spec.parsed, spec.timezone, last_slot)
    if first is None or first > now:
        return []
    second = slots_module.next_slot(spec.parsed, spec.timezone, first)
    if second is not None and second <= now:
        return None
    return [first] if now - first <= _grace(spec) else None


def _plan_one(
    spec: ScheduleSpec, last_slot: datetime, due: list[datetime], active_run: bool
) -> FiringPlan:
    if not due:
        return FiringPlan(decided_through=last_slot)
    fire, skipped, stop = _by_concurrency(spec, due, due[0], active_run)
    return FiringPlan(
        fire=tuple(fire), skipped=tuple(skipped), stop_active=stop, decided_through=due[0]
    )


def _plan_all(
    spec: ScheduleSpec, last_slot: datetime, now: datetime, active_run: bool
) -> FiringPlan:
    skipped, start = _too_old(spec, last_slot, now)
    to_fire, on_time = _by_missed_policy(spec, start, now)
    end = to_fire[0] - _TICK if to_fire else now
    skipped += _skipped_range(spec, start, end, _missed_reason(spec))
    fire, more_skipped, stop = _by_concurrency(spec, to_fire, on_time, active_run)
    skipped += more_skipped
    decided = [last_slot, *(s.last for s in skipped), *(f.slot for f in fire)]
    return FiringPlan(
        fire=tuple(fire), skipped=tuple(skipped), stop_active=stop, decided_through=max(decided)
    )


def _too_old(
    spec: ScheduleSpec, last_slot: datetime, now: datetime
) -> tuple[list[SkippedSlots], datetime]:
    """Skip slots older than the starting deadline; return where the rest begin."""
    if spec.starting_deadline_seconds is None:
        return [], last_slot
    cutoff = now - timedelta(seconds=spec.starting_deadline_seconds) - _TICK
    if cutoff <= last_slot:
        return [], last_slot
    reason = f"older than starting_deadline_seconds={spec.starting_deadline_seconds}"
    return _skipped_range(spec, last_slot, cutoff, reason), cutoff


def _by_missed_policy(
    spec: ScheduleSpec, start: datetime, now: datetime
) -> tuple[list[datetime], datetime | None]:
    """The due slots to fire, oldest first, and the on-time slot if there is one."""
    wanted = spec.max_catch_up + 1 if spec.missed_runs == "catch_up" else 1
    latest = slots_module.latest_slots(spec.parsed, spec.timezone, start, now, wanted)
    if not latest:
        return [], None
    on_time = latest[-1] if now - latest[-1] <= _grace(spec) else None
    if spec.missed_runs == "skip":
        return ([on_time] if on_time else []), on_time
    if spec.missed_runs == "run_once":
        return latest[-1:], on_time
    missed = latest[:-1] if on_time else latest
    missed = missed[len(missed) - spec.max_catch_up :] if spec.max_catch_up else []
    return missed + ([on_time] if on_time else []), on_time


def _grace(spec: ScheduleSpec) -> timedelta:
    """How old the latest due slot may be and still be on time."""
    if spec.starting_deadline_seconds is not None:
        return timedelta(seconds=spec.starting_deadline_seconds)
    return ON_TIME_GRACE


def _by_concurrency(
    spec: ScheduleSpec, to_fire: list[datetime], on_time: datetime | None, active_run: bool
) -> tuple[list[FireSlot], list[SkippedSlots], bool]:
    """(slots to fire, slots skipped, stop the active run) under concurrency_policy."""
    if not to_fire:
        return [], [], False
    policy = spec.concurrency_policy
    if policy == "allow":
        return [_fire(spec, s, on_time) for s in to_fire], [], False
    if policy == "replace":
        older = _skipped_list(
            to_fire[:-1], "superseded by a newer slot; concurrency_policy=replace"
        )
        return [_fire(spec, to_fire[-1], on_time)], older, active_run
    if not active_run:
        return [_fire(spec, to_fire[0], on_time)], [], False  # the rest wait for the next call
    if to_fire == [on_time]:
        return [], _skipped_list(to_fire, "a run is still active; concurrency_policy=forbid"), False
    return [], [], False  # missed slots wait until the active run ends


def _fire(spec: ScheduleSpec, slot: datetime, on_time: datetime | None) -> FireSlot:
    if slot == on_time:
        return FireSlot(slot=slot, missed=False, note="on time")
    if spec.missed_runs == "run_once":
        note = "the latest missed slot; missed_runs=run_once"
    else:
        note = "catching up a missed slot; missed_runs=catch_up"
    return FireSlot(slot=slot, missed=True, note=note)


def _missed_reason(spec: ScheduleSpec) -> str:
    if spec.missed_runs == "catch_up":
        return f"over max_catch_up={spec.max_catch_up}; only the latest missed slots are caught up"
    why = "missed while the server was down or the schedule was suspended"
    if spec.missed_runs == "skip":
        return f"{why}; missed_runs=skip"
    return f"{why}; missed_runs=run_once fires only the latest"


def _skipped_range(
    spec: ScheduleSpec, start: datetime, end: datetime, reason: str
) -> list[SkippedSlots]:
    """One SkippedSlots for the slots in (start, end], or none if there are none."""
    cron, tz = spec.parsed, spec.timezone
    first = slots_module.slots_between(cron, tz, start, end, 1)
    if not first:
        return []
    last = slots_module.latest_slots(cron, tz, start, end, 1)[-1]
    count = slots_module.count_slots(cron, tz, start, end, COUNT_CAP)
    return [SkippedSlots(first=first[0], last=last, count=count, reason=reason)]


def _skipped_list(slots: list[datetime], reason: str) -> list[SkippedSlots]:
    if not slots:
        return []
    return [SkippedSlots(first=slots[0], last=slots[-1], count=len(slots), reason=reason)]


def _utc(t: datetime, name: str) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {t.isoformat()}")
    return t.astimezone(UTC)
