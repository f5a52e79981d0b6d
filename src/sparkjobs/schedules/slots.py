"""Slots: the instants (aware, UTC) at which a schedule fires, in order."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import islice

from sparkjobs.schedules import zones
from sparkjobs.schedules.cron import Cron, parse
from sparkjobs.schedules.walls import next_wall


def iter_slots(cron: Cron, timezone: str, after: datetime) -> Iterator[datetime]:
    """Every slot strictly after the aware instant `after`, in increasing order, each once.

    Wall times come in wall order, but around a backward DST change an interval
    schedule's second occurrences come later than the next wall times' first
    ones; a small heap puts them back in order. A slot is released only when no
    later wall time can yield an earlier instant.
    """
    _require_aware(after)
    tz = zones.zone(timezone)
    after = after.astimezone(UTC)
    wall: datetime | None = zones.start_wall(after, tz)
    pending: list[datetime] = []
    last: datetime | None = None
    while wall is not None:
        wall = next_wall(cron, wall)
        bound = zones.lower_bound(wall, tz) if wall is not None else None
        while pending and (bound is None or pending[0] <= bound):
            slot = heapq.heappop(pending)
            if slot != last:
                last = slot
                yield slot
        if wall is None:
            return
        for slot in zones.instants(wall, tz, elapsed=cron.every_hour):
            if slot > after:
                heapq.heappush(pending, slot)
        wall += timedelta(seconds=1)


def next_slots(cron: Cron, timezone: str, after: datetime, n: int) -> list[datetime]:
    """The next `n` slots strictly after `after`."""
    return list(islice(iter_slots(cron, timezone, after), n))


def next_slot(cron: Cron, timezone: str, after: datetime) -> datetime | None:
    """The first slot strictly after `after`, or None; cached.

    Schedules that share a cron and a zone share their slots, and a scheduler
    asks for the slot after a slot: 10,000 schedules firing every minute cost
    one search per minute instead of 10,000.
    """
    _require_aware(after)
    return _next_slot(cron.text, timezone, after)


@lru_cache(maxsize=16_384)
def _next_slot(cron_text: str, timezone: str, after: datetime) -> datetime | None:
    found = next_slots(parse(cron_text), timezone, after, 1)
    return found[0] if found else None


def slots_between(
    cron: Cron, timezone: str, start_exclusive: datetime, end_inclusive: datetime, limit: int
) -> list[datetime]:
    """Up to `limit` slots in (start_exclusive, end_inclusive], the earliest first."""
    _require_aware(end_inclusive)
    return _take_until(iter_slots(cron, timezone, start_exclusive), end_inclusive, limit)


def _take_until(found: Iterator[datetime], end: datetime, limit: int) -> list[datetime]:
    out: list[datetime] = []
    for slot in found:
        if slot > end or len(out) >= limit:
            break
        out.append(slot)
    return out


def latest_slots(
    cron: Cron, timezone: str, start_exclusive: datetime, end_inclusive: datetime, k: int
) -> list[datetime]:
    """The latest `k` slots in (start_exclusive, end_inclusive], in increasing order.

    Looks back from the end in windows that grow fourfold, so a long outage of a
    frequent schedule costs about as much as the slots it returns.
    """
    window = timedelta(minutes=1)
    while True:
        whole = window >= end_inclusive - start_exclusive
        start = start_exclusive if whole else end_inclusive - window
        latest: deque[datetime] = deque(maxlen=k)
        for slot in iter_slots(cron, timezone, start):
            if slot > end_inclusive:
                break
            latest.append(slot)
        if len(latest) >= k or whole:
            return list(latest)
        window *= 4


def count_slots(
    cron: Cron, timezone: str, start_exclusive: datetime, end_inclusive: datetime, cap: int
) -> int | None:
    """How many slots lie in (start_exclusive, end_inclusive]; None when more than `cap`."""
    count = len(slots_between(cron, timezone, start_exclusive, end_inclusive, cap + 1))
    return None if count > cap else count


def _require_aware(t: datetime) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{t.isoformat()} has no time zone; pass an aware datetime")
