"""Slots across DST changes, checked by hand for the issue's cases and against a
brute-force reference (every minute of the day, one by one) for many schedules."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sparkjobs import schedules

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def spec(cron: str, tz: str = "UTC") -> schedules.ScheduleSpec:
    return schedules.ScheduleSpec(cron=cron, timezone=tz)


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))  # type: ignore[arg-type, misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type, misc]


def on_day(cron: str, tz: str, year: int, month: int, day: int) -> list[datetime]:
    """Every slot of one local calendar day, in UTC."""
    start = local(tz, year, month, day) - timedelta(seconds=1)
    end = local(tz, year, month, day) + timedelta(days=1, hours=2)
    found = schedules.slots_between(spec(cron, tz), start, end, 1000)
    return [s for s in found if s.astimezone(ZoneInfo(tz)).day == day]


# --- the cases, by hand ----------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "tz", "day", "expected_utc"),
    [
        # Berlin springs from 02:00 CET to 03:00 CEST on 2026-03-29 (01:00 UTC).
        ("30 2 * * *", BERLIN, (2026, 3, 29), [utc(2026, 3, 29, 1, 0)]),
        ("0 2 * * *", BERLIN, (2026, 3, 29), [utc(2026, 3, 29, 1, 0)]),
        # Berlin falls back from 03:00 CEST to 02:00 CET on 2026-10-25 (01:00 UTC).
        ("30 2 * * *", BERLIN, (2026, 10, 25), [utc(2026, 10, 25, 0, 30)]),
        ("0 2 * * *", BERLIN, (2026, 10, 25), [utc(2026, 10, 25, 0, 0)]),
        # New York springs from 02:00 EST to 03:00 EDT on 2026-03-08 (07:00 UTC).
        ("30 2 * * *", NEW_YORK, (2026, 3, 8), [utc(2026, 3, 8, 7, 0)]),
        ("0 2 * * *", NEW_YORK, (2026, 3, 8), [utc(2026, 3, 8, 7, 0)]),
        # New York falls back from 02:00 EDT to 01:00 EST on 2026-11-01 (06:00 UTC):
        # 01:00-01:59 happen twice; 02:00 happens once.
        ("30 1 * * *", NEW_YORK, (2026, 11, 1), [utc(2026, 11, 1, 5, 30)]),
        ("0 2 * * *", NEW_YORK, (2026, 11, 1), [utc(2026, 11, 1, 7, 0)]),
        ("30 2 * * *", NEW_YORK, (2026, 11, 1), [utc(2026, 11, 1, 7, 30)]),
    ],
)
def test_fixed_time_fires_once_on_dst_days(
    cron: str, tz: str, day: tuple[int, int, int], expected_utc: list[datetime]
) -> None:
    assert on_day(cron, tz, *day) == expected_utc


def test_spring_gap_slot_fires_at_the_change_then_normal_days_resume() -> None:
    found = schedules.next_slots(spec("30 2 * * *", BERLIN), local(BERLIN, 2026, 3, 28, 12), 3)
    assert found == [utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30), utc(2026, 3, 31, 0, 30)]
    assert [schedules.in_zone(spec("0 0 * * *", BERLIN), s).strftime("%H:%M") for s in found] == [
        "03:00",
        "02:30",
        "02:30",
    ]


def test_interval_schedule_fires_in_both_repeated_hours_at_even_spacing() -> None:
    found = on_day("*/15 * * * *", BERLIN, 2026, 10, 25)
    assert len(found) == 25 * 4  # the day has 25 hours
    gaps = {b - a for a, b in itertools.pairwise(found)}
    assert gaps == {timedelta(minutes=15)}


def test_interval_schedule_skips_the_missing_hour_without_bunching() -> None:
    found = on_day("*/15 * * * *", BERLIN, 2026, 3, 29)
    assert len(found) == 23 * 4
    gaps = {b - a for a, b in itertools.pairwise(found)}
    assert gaps == {timedelta(minutes=15)}
    hourly = on_day("30 * * * *", NEW_YORK, 2026, 3, 8)
    assert len(hourly) == 23
    assert {b - a for a, b in itertools.pairwise(hourly)} == {timedelta(hours=1)}


def test_hourly_at_minute_30_fires_twice_in_the_repeated_hour() -> None:
    found = on_day("30 * * * *", NEW_YORK, 2026, 11, 1)
    ones = [s for s in found if s.astimezone(ZoneInfo(NEW_YORK)).hour == 1]
    assert ones == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)]


def test_seconds_first_six_fields() -> None:
    found = schedules.next_slots(spec("15,45 30 2 * * *"), utc(2026, 1, 1), 3)
    assert found == [
        utc(2026, 1, 1, 2, 30, 15),
        utc(2026, 1, 1, 2, 30, 45),
        utc(2026, 1, 2, 2, 30, 15),
    ]
    assert schedules.next_slots(spec("*/20 * * * * *"), utc(2026, 1, 1, 0, 0, 5), 2) == [
        utc(2026, 1, 1, 0, 0, 20),
        utc(2026, 1, 1, 0, 0, 40),
    ]


@pytest.mark.parametrize(
    ("macro", "after", "expected"),
    [
        ("@hourly", utc(2026, 5, 5, 10, 0), [utc(2026, 5, 5, 11), utc(2026, 5, 5, 12)]),
        ("@daily", utc(2026, 5, 5, 10), [utc(2026, 5, 6), utc(2026, 5, 7)]),
        ("@midnight", utc(2026, 5, 5, 10), [utc(2026, 5, 6), utc(2026, 5, 7)]),
        ("@weekly", utc(2026, 5, 5, 10), [utc(2026, 5, 10), utc(2026, 5, 17)]),  # Sundays
        ("@monthly", utc(2026, 5, 5, 10), [utc(2026, 6, 1), utc(2026, 7, 1)]),
        ("@yearly", utc(2026, 5, 5, 10), [utc(2027, 1, 1), utc(2028, 1, 1)]),
        ("@annually", utc(2026, 5, 5, 10), [utc(2027, 1, 1), utc(2028, 1, 1)]),
    ],
)
def test_macros(macro: str, after: datetime, expected: list[datetime]) -> None:
    assert schedules.next_slots(spec(macro), after, 2) == expected


def test_day_fields_or_when_both_restricted_and_when_star_step() -> None:
    # Unix cron: day 13 OR Friday.
    either = schedules.next_slots(spec("0 0 13 * FRI"), utc(2026, 2, 1), 4)
    assert [d.day for d in either] == [6, 13, 20, 27]
    # A '*' day-of-month with a step counts as unrestricted: both must match (AND).
    both = schedules.next_slots(spec("0 0 */2 * FRI"), utc(2026, 2, 1), 2)
    assert [d.day for d in both] == [13, 27]


def test_rare_dates_are_found() -> None:
    assert schedules.next_slots(spec("0 0 29 2 *"), utc(2026, 3, 1), 2) == [
        utc(2028, 2, 29),
        utc(2032, 2, 29),
    ]


def test_slots_between_is_exclusive_inclusive_and_limited() -> None:
    every_hour = spec("0 * * * *")
    found = schedules.slots_between(every_hour, utc(2026, 1, 1, 0), utc(2026, 1, 1, 3), 10)
    assert found == [utc(2026, 1, 1, 1), utc(2026, 1, 1, 2), utc(2026, 1, 1, 3)]
    assert len(schedules.slots_between(every_hour, utc(2026, 1, 1), utc(2026, 2, 1), 5)) == 5


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        schedules.next_slots(spec("@daily"), datetime(2026, 1, 1), 1)


def test_results_are_utc_and_strictly_after() -> None:
    after = local(BERLIN, 2026, 6, 1, 2, 0)
    found = schedules.next_slots(spec("0 2 * * *", BERLIN), after, 1)
    assert found[0].tzinfo is UTC
    assert found[0] == local(BERLIN, 2026, 6, 2, 2, 0)


def test_next_due() -> None:
    daily = spec("0 2 * * *", BERLIN)
    assert schedules.next_due(daily, None, utc(2026, 6, 1, 12)) == utc(2026, 6, 2, 0)
    assert schedules.next_due(daily, utc(2026, 5, 1, 0), utc(2026, 6, 1, 12)) == utc(2026, 5, 2, 0)


# --- against a brute-force reference -----------------------------------------------------


def reference(cron: str, tz_name: str, start: datetime, end: datetime) -> list[datetime]:
    """The DST rules stated without cleverness, checked minute by minute.

    Interval schedules (every hour) fire at each instant whose local time matches.
    Others fire, for each matching local wall time, at the first instant whose local
    wall time is at or past it (the first occurrence, or the change for a skipped one).
    """
    parsed, tz = schedules.parse(cron), ZoneInfo(tz_name)
    minutes = []
    t = start
    while t <= end:
        minutes.append((t, t.astimezone(tz).replace(tzinfo=None)))
        t += timedelta(minutes=1)

    def matches(wall: datetime) -> bool:
        return (
            wall.minute in parsed.minutes
            and wall.hour in parsed.hours
            and wall.month in parsed.months
            and parsed.day_matches(wall.date())
        )

    if parsed.every_hour:
        return [u for u, wall in minutes if matches(wall)]
    walls = sorted({w for _, w in minutes if matches(w)})
    gap_walls = _walls_in_gaps(minutes, matches)
    found = set()
    for wall in sorted(set(walls) | gap_walls):
        found.add(next(u for u, w in minutes if w >= wall))
    return sorted(found)


def _walls_in_gaps(
    minutes: list[tuple[datetime, datetime]], matches: Callable[[datetime], bool]
) -> set[datetime]:
    out = set()
    for (_, a), (_, b) in itertools.pairwise(minutes):
        w = a + timedelta(minutes=1)
        while w < b:  # wall times the clock jumped over
            if matches(w):
                out.add(w)
            w += timedelta(minutes=1)
    return out


CASES = [
    "30 2 * * *",
    "0 2 * * *",
    "0 3 * * *",
    "59 1 * * *",
    "0 1,2,3 * * *",
    "*/15 * * * *",
    "30 * * * *",
    "*/7 * * * *",
    "0 0 * * *",
    "45 23 * * *",
    "0 */2 * * *",
]
ZONES = [
    (BERLIN, (2026, 3, 28), (2026, 3, 30)),
    (BERLIN, (2026, 10, 24), (2026, 10, 26)),
    (NEW_YORK, (2026, 3, 7), (2026, 3, 9)),
    (NEW_YORK, (2026, 10, 31), (2026, 11, 2)),
    ("Australia/Lord_Howe", (2026, 4, 4), (2026, 4, 6)),  # a 30-minute change
    ("Australia/Lord_Howe", (2026, 10, 3), (2026, 10, 5)),
    ("America/Santiago", (2026, 9, 5), (2026, 9, 7)),  # springs forward at midnight
    ("Asia/Kolkata", (2026, 3, 28), (2026, 3, 30)),  # no DST, half-hour offset
]


@pytest.mark.parametrize("cron", CASES)
@pytest.mark.parametrize(("tz", "first", "last"), ZONES)
def test_matches_brute_force_reference(
    cron: str, tz: str, first: tuple[int, int, int], last: tuple[int, int, int]
) -> None:
    start = local(tz, *first).astimezone(UTC)
    end = local(tz, *last).astimezone(UTC)
    ours = schedules.slots_between(spec(cron, tz), start - timedelta(seconds=1), end, 10_000)
    assert ours == reference(cron, tz, start, end)


def test_next_runs_pairs_utc_and_local_wall_time() -> None:
    runs = schedules.next_runs(spec("0 2 * * *", BERLIN), local(BERLIN, 2026, 3, 28, 12), 2)
    assert [(u.isoformat(), w.isoformat()) for u, w in runs] == [
        ("2026-03-29T01:00:00+00:00", "2026-03-29T03:00:00+02:00"),
        ("2026-03-30T00:00:00+00:00", "2026-03-30T02:00:00+02:00"),
    ]
