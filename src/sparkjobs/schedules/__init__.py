"""Schedules: cron with time zones, the slots it yields, and which of them fire.

Pure: no I/O, no clock of its own (callers pass `now`), so tests cross DST
changes and long outages without sleeping. All instants given back are aware
and in UTC. See zones.py for the DST rules and firing.py for the policies.
"""

from __future__ import annotations

from datetime import datetime

from sparkjobs.schedules import slots as _slots
from sparkjobs.schedules import zones as _zones
from sparkjobs.schedules.cron import MACROS, Cron, parse
from sparkjobs.schedules.describe import describe
from sparkjobs.schedules.firing import (
    COUNT_CAP,
    ON_TIME_GRACE,
    FireSlot,
    FiringPlan,
    SkippedSlots,
    plan_firing,
)
from sparkjobs.schedules.spec import ConcurrencyPolicy, MissedRuns, ScheduleSpec

__all__ = [
    "COUNT_CAP",
    "MACROS",
    "ON_TIME_GRACE",
    "ConcurrencyPolicy",
    "Cron",
    "FireSlot",
    "FiringPlan",
    "MissedRuns",
    "ScheduleSpec",
    "SkippedSlots",
    "describe",
    "in_zone",
    "next_due",
    "next_runs",
    "next_slots",
    "parse",
    "plan_firing",
    "slots_between",
]


def next_slots(spec: ScheduleSpec, after: datetime, n: int) -> list[datetime]:
    """The next `n` slots strictly after the aware instant `after` (aware, UTC)."""
    return _slots.next_slots(spec.parsed, spec.timezone, after, n)


def slots_between(
    spec: ScheduleSpec, start_exclusive: datetime, end_inclusive: datetime, limit: int
) -> list[datetime]:
    """Up to `limit` slots in (start_exclusive, end_inclusive], the earliest first."""
    return _slots.slots_between(spec.parsed, spec.timezone, start_exclusive, end_inclusive, limit)


def next_due(spec: ScheduleSpec, last_slot: datetime | None, now: datetime) -> datetime | None:
    """When plan_firing next has work: the first slot after last_slot (after now if None).

    A scheduler stores this and calls plan_firing only once it has passed.
    """
    return _slots.next_slot(spec.parsed, spec.timezone, last_slot or now)


def next_runs(spec: ScheduleSpec, now: datetime, n: int = 5) -> list[tuple[datetime, datetime]]:
    """The next `n` slots as (UTC, wall-clock in the schedule's zone) pairs, for display."""
    return [(slot, in_zone(spec, slot)) for slot in next_slots(spec, now, n)]


def in_zone(spec: ScheduleSpec, instant: datetime) -> datetime:
    """`instant` as wall-clock time in the schedule's time zone (for display)."""
    return instant.astimezone(_zones.zone(spec.timezone))
