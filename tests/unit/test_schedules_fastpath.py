"""The quick paths give what the general search gives: plan_firing's one-slot case, next_slot."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from sparkjobs import schedules
from sparkjobs.schedules import firing, slots

#: Around the spring change in Berlin and the autumn one in New York, and a quiet time.
STARTS = [
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
    datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
]
CRONS = ["* * * * *", "*/15 * * * *", "30 2 * * *", "30 1 * * *", "*/20 * * * * *", "@hourly"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York"]
POLICIES = [
    {"missed_runs": "skip"},
    {"missed_runs": "run_once", "concurrency_policy": "forbid"},
    {"missed_runs": "catch_up", "max_catch_up": 3, "concurrency_policy": "replace"},
    {"missed_runs": "catch_up", "starting_deadline_seconds": 30},
    {"missed_runs": "run_once", "starting_deadline_seconds": 0},
]


@pytest.mark.parametrize(("cron", "zone"), list(product(CRONS, ZONES)))
def test_plan_firing_matches_the_general_search(cron: str, zone: str) -> None:
    rng = random.Random(f"{cron}|{zone}")
    for start, policy in product(STARTS, POLICIES):
        spec = schedules.ScheduleSpec(cron=cron, timezone=zone, **policy)
        last = start
        for _ in range(20):
            # Mostly the next slot plus a little (the usual call), sometimes an outage.
            upcoming = schedules.next_due(spec, last, last) or last
            now = upcoming + timedelta(seconds=rng.choice([0, 0.5, 10, 59, 61, 400, 7200]))
            active = rng.random() < 0.5
            quick = schedules.plan_firing(spec, last_slot=last, now=now, active_run=active)
            general = firing._plan_all(spec, last, now.astimezone(UTC), active)
            assert quick == general, (spec, last, now, active)
            last = quick.decided_through


@pytest.mark.parametrize(("cron", "zone"), list(product(CRONS, ZONES)))
def test_next_slot_is_the_first_of_next_slots(cron: str, zone: str) -> None:
    parsed = schedules.parse(cron)
    for start in STARTS:
        after = start
        for _ in range(30):
            expected = slots.next_slots(parsed, zone, after, 1)[0]
            assert slots.next_slot(parsed, zone, after) == expected
            after = expected + timedelta(seconds=0.25) if expected.second % 2 else expected
