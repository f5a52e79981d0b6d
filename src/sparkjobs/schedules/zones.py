"""From wall-clock times in a time zone to instants, across DST changes.

Two rules, chosen to be what a person expects:

* A schedule pinned to hours of the day ("0 2 * * *") follows the wall
  clock. A wall time the spring change skips fires once, at the change
  (Berlin 02:30 on the spring day fires at 03:00 CEST); a wall time the autumn
  change repeats fires once, at its first occurrence.
* A schedule that fires in every hour ("*/15 * * * *", "30 * * * *") is about
  elapsed time. A skipped wall time does not fire (the next slot is one interval
  on anyway), and a repeated wall time fires in both occurrences, so the
  interval between runs stays the same through the change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; ValueError for any other name."""
    if name not in known_zones():
        raise ValueError(
            f"timezone '{name}' is not a known IANA time zone name such as "
            "'Europe/Berlin', 'America/New_York' or 'UTC'"
        )
    return ZoneInfo(name)


def instants(wall: datetime, tz: ZoneInfo, *, elapsed: bool) -> list[datetime]:
    """The UTC instants at which the naive `wall` time fires (none, one or two)."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return [first]
    if first < second:  # repeated by a backward change
        return [first, second] if elapsed else [first]
    # Skipped by a forward change: fold=1 maps before the change, fold=0 after.
    return [] if elapsed else [_change_between(tz, second, first)]


def lower_bound(wall: datetime, tz: ZoneInfo) -> datetime:
    """An instant no slot from `wall` or any later wall time comes before."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return min(first, second)


def start_wall(after: datetime, tz: ZoneInfo) -> datetime:
    """A naive wall time at or before the wall time of every instant after `after`.

    Normally `after`'s own wall time; earlier when the clock is turned back within
    the next day, because the repeated wall times then come after `after`.
    """
    offsets = (
        after.astimezone(tz).utcoffset(),
        (after + timedelta(days=1)).astimezone(tz).utcoffset(),
    )
    smallest = min(o for o in offsets if o is not None)
    return (after.astimezone(UTC) + smallest).replace(tzinfo=None)


def _change_between(tz: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The instant in (before, after] at which tz's offset changes (to the second)."""
    old = before.astimezone(tz).utcoffset()
    low, high = before, after
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(tz).utcoffset() == old:
            low = middle
        else:
            high = middle
    return high
