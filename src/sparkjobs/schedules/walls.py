"""Wall-clock times a cron expression matches, without any time zone.

The search walks down from month to second and jumps over whole months, days,
hours and minutes that cannot match, so each step costs a few comparisons
whatever the schedule.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime, timedelta

from sparkjobs.schedules.cron import Cron

#: Bound on the search; the sparsest possible schedule (29 February on a given
#: weekday, or 29 February alone) needs a few hundred steps.
_MAX_STEPS = 100_000


def next_wall(cron: Cron, start: datetime) -> datetime | None:
    """The first naive wall time at or after `start` that `cron` matches (None past year 9998)."""
    t = _ceil_second(start)
    for _ in range(_MAX_STEPS):
        if t.year >= 9999:
            return None
        if t.month not in cron.months:
            t = _next_month(t)
        elif not cron.day_matches(t.date()):
            t = _next_day(t)
        else:
            found, t = _within_day(cron, t)
            if found:
                return t
    raise AssertionError(f"no match for cron '{cron.text}' within {_MAX_STEPS} steps")


def _within_day(cron: Cron, t: datetime) -> tuple[bool, datetime]:
    """(True, match) on t's day at or after t, else (False, where to look next)."""
    hour = _first_at_least(cron.hours, t.hour)
    if hour is None:
        return False, _next_day(t)
    if hour != t.hour:
        t = t.replace(hour=hour, minute=0, second=0)
    minute = _first_at_least(cron.minutes, t.minute)
    if minute is None:
        return False, t.replace(minute=0, second=0) + timedelta(hours=1)
    if minute != t.minute:
        t = t.replace(minute=minute, second=0)
    second = _first_at_least(cron.seconds, t.second)
    if second is None:
        return False, t.replace(second=0) + timedelta(minutes=1)
    return True, t.replace(second=second)


def _first_at_least(values: tuple[int, ...], value: int) -> int | None:
    i = bisect_left(values, value)
    return values[i] if i < len(values) else None


def _ceil_second(t: datetime) -> datetime:
    if t.microsecond:
        return t.replace(microsecond=0) + timedelta(seconds=1)
    return t


def _next_day(t: datetime) -> datetime:
    return datetime(t.year, t.month, t.day) + timedelta(days=1)


def _next_month(t: datetime) -> datetime:
    if t.month == 12:
        return datetime(t.year + 1, 1, 1)
    return datetime(t.year, t.month + 1, 1)
