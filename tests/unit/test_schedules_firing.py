"""plan_firing: missed-run and concurrency policies, deadlines, with a clock passed in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sparkjobs import schedules

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
H = timedelta(hours=1)


def hourly(**fields: Any) -> schedules.ScheduleSpec:
    return schedules.ScheduleSpec(cron="0 * * * *", **fields)


def plan(
    spec: schedules.ScheduleSpec,
    last: datetime | None,
    now: datetime,
    active: bool = False,
) -> schedules.FiringPlan:
    return schedules.plan_firing(spec, last_slot=last, now=now, active_run=active)


def fired(p: schedules.FiringPlan) -> list[datetime]:
    return [f.slot for f in p.fire]


def skips(p: schedules.FiringPlan) -> list[tuple[datetime, datetime, int | None, str]]:
    return [(s.first, s.last, s.count, s.reason) for s in p.skipped]


def hours(*n: int) -> list[datetime]:
    return [T0 + k * H for k in n]


# --- the everyday cases ------------------------------------------------------------------


def test_new_schedule_starts_from_now() -> None:
    p = plan(hourly(missed_runs="catch_up"), None, T0 + 5 * H + timedelta(minutes=1))
    assert p.fire == () and p.skipped == ()
    assert p.decided_through == T0 + 5 * H + timedelta(minutes=1)


def test_on_time_slot_fires() -> None:
    p = plan(hourly(), T0, T0 + H + timedelta(seconds=2))
    assert fired(p) == hours(1)
    assert p.fire[0].missed is False and p.fire[0].note == "on time"
    assert p.skipped == () and p.stop_active is False
    assert p.decided_through == T0 + H


def test_nothing_due_changes_nothing() -> None:
    p = plan(hourly(), T0 + H, T0 + H + timedelta(minutes=30))
    assert p == schedules.FiringPlan(decided_through=T0 + H)


def test_a_slot_is_due_at_its_instant() -> None:
    assert fired(plan(hourly(), T0, T0 + H)) == hours(1)
    assert fired(plan(hourly(), T0, T0 + H - timedelta(microseconds=1))) == []


def test_clock_behind_last_slot_fires_nothing() -> None:
    p = plan(hourly(), T0 + 5 * H, T0 + 2 * H)
    assert p.fire == () and p.decided_through == T0 + 5 * H


def test_suspended_decides_nothing_and_resume_applies_missed_runs() -> None:
    suspended = hourly(suspended=True)
    p = plan(suspended, T0, T0 + 5 * H + timedelta(minutes=30))
    assert p == schedules.FiringPlan(decided_through=T0)
    resumed = suspended.model_copy(update={"suspended": False})
    assert fired(plan(resumed, T0, T0 + 5 * H + timedelta(minutes=30))) == hours(5)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        plan(hourly(), T0, datetime(2026, 6, 1, 5))


# --- missed slots: server down from 00:00 to 05:30, five slots missed ---------------------

DOWN_UNTIL = T0 + 5 * H + timedelta(minutes=30)


def test_missed_skip_fires_none() -> None:
    p = plan(hourly(missed_runs="skip"), T0, DOWN_UNTIL)
    assert fired(p) == []
    [(first, last, count, reason)] = skips(p)
    assert (first, last, count) == (T0 + H, T0 + 5 * H, 5)
    assert (
        reason == "missed while the server was down or the schedule was suspended; missed_runs=skip"
    )
    assert p.decided_through == T0 + 5 * H


def test_missed_skip_still_fires_the_on_time_slot() -> None:
    p = plan(hourly(missed_runs="skip"), T0, T0 + 5 * H + timedelta(seconds=30))
    assert fired(p) == hours(5) and p.fire[0].missed is False
    assert skips(p)[0][:3] == (T0 + H, T0 + 4 * H, 4)


def test_missed_run_once_fires_the_latest() -> None:
    p = plan(hourly(missed_runs="run_once"), T0, DOWN_UNTIL)
    assert fired(p) == hours(5)
    assert p.fire[0].missed is True and "run_once" in p.fire[0].note
    [(first, last, count, reason)] = skips(p)
    assert (first, last, count) == (T0 + H, T0 + 4 * H, 4)
    assert "missed_runs=run_once fires only the latest" in reason


def test_missed_catch_up_fires_each_in_order() -> None:
    p = plan(hourly(missed_runs="catch_up"), T0, DOWN_UNTIL)
    assert fired(p) == hours(1, 2, 3, 4, 5)
    assert all(f.missed for f in p.fire)
    assert p.skipped == ()


def test_catch_up_100_missed_with_max_10_fires_the_latest_10_in_order() -> None:
    p = plan(
        hourly(missed_runs="catch_up", max_catch_up=10), T0, T0 + 100 * H + timedelta(minutes=5)
    )
    assert fired(p) == hours(*range(91, 101))
    [(first, last, count, reason)] = skips(p)
    assert (first, last, count) == (T0 + H, T0 + 90 * H, 90)
    assert reason.startswith("over max_catch_up=10")


def test_catch_up_max_counts_missed_slots_not_the_on_time_one() -> None:
    p = plan(
        hourly(missed_runs="catch_up", max_catch_up=10), T0, T0 + 100 * H + timedelta(seconds=5)
    )
    assert fired(p) == hours(*range(90, 101))
    assert [f.missed for f in p.fire] == [True] * 10 + [False]
    assert skips(p)[0][:3] == (T0 + H, T0 + 89 * H, 89)


def test_catch_up_with_max_0_only_fires_on_time() -> None:
    spec = hourly(missed_runs="catch_up", max_catch_up=0)
    assert fired(plan(spec, T0, DOWN_UNTIL)) == []
    assert fired(plan(spec, T0, T0 + 5 * H)) == hours(5)


# --- starting deadline ---------------------------------------------------------------------


def test_slots_older_than_the_deadline_never_fire() -> None:
    spec = hourly(missed_runs="catch_up", starting_deadline_seconds=300)
    p = plan(spec, T0, T0 + 5 * H + timedelta(minutes=4))
    assert fired(p) == hours(5)
    assert skips(p) == [(T0 + H, T0 + 4 * H, 4, "older than starting_deadline_seconds=300")]
    late = plan(spec, T0, T0 + 5 * H + timedelta(minutes=6))
    assert fired(late) == []
    assert skips(late)[0][:3] == (T0 + H, T0 + 5 * H, 5)


def test_deadline_boundary_is_inclusive() -> None:
    spec = hourly(starting_deadline_seconds=300)
    assert fired(plan(spec, T0, T0 + H + timedelta(seconds=300))) == hours(1)
    assert fired(plan(spec, T0, T0 + H + timedelta(seconds=301))) == []


def test_deadline_and_catch_up_together() -> None:
    spec = schedules.ScheduleSpec(
        cron="* * * * *", missed_runs="catch_up", starting_deadline_seconds=300
    )
    m = timedelta(minutes=1)
    p = plan(spec, T0, T0 + 10 * m)
    assert fired(p) == [T0 + k * m for k in range(5, 11)]
    assert skips(p)[0][:3] == (T0 + m, T0 + 4 * m, 4)


def test_without_a_deadline_the_on_time_grace_is_a_minute() -> None:
    p = plan(hourly(missed_runs="skip"), T0, T0 + H + schedules.ON_TIME_GRACE)
    assert fired(p) == hours(1)
    p = plan(
        hourly(missed_runs="skip"), T0, T0 + H + schedules.ON_TIME_GRACE + timedelta(seconds=1)
    )
    assert fired(p) == []


# --- concurrency -------------------------------------------------------------------------


def test_allow_fires_even_with_an_active_run() -> None:
    p = plan(hourly(concurrency_policy="allow"), T0, T0 + H, active=True)
    assert fired(p) == hours(1) and p.stop_active is False


def test_forbid_skips_the_slot_while_a_run_is_active() -> None:
    p = plan(hourly(concurrency_policy="forbid"), T0, T0 + H, active=True)
    assert fired(p) == []
    assert skips(p) == [(T0 + H, T0 + H, 1, "a run is still active; concurrency_policy=forbid")]
    assert p.decided_through == T0 + H
    assert fired(plan(hourly(concurrency_policy="forbid"), T0, T0 + H)) == hours(1)


def test_replace_stops_the_active_run_and_fires() -> None:
    p = plan(hourly(concurrency_policy="replace"), T0, T0 + H, active=True)
    assert fired(p) == hours(1) and p.stop_active is True
    assert plan(hourly(concurrency_policy="replace"), T0, T0 + H).stop_active is False


def test_replace_with_catch_up_fires_only_the_newest() -> None:
    p = plan(hourly(concurrency_policy="replace", missed_runs="catch_up"), T0, DOWN_UNTIL)
    assert fired(p) == hours(5)
    assert skips(p) == [
        (T0 + H, T0 + 4 * H, 4, "superseded by a newer slot; concurrency_policy=replace")
    ]


def test_forbid_catches_up_one_run_at_a_time() -> None:
    spec = hourly(concurrency_policy="forbid", missed_runs="catch_up")
    now, last = DOWN_UNTIL, T0
    started: list[datetime] = []
    for active in [False, True, True, False, True, False, False, True, False, False]:
        p = plan(spec, last, now, active=active)
        assert p.skipped == ()
        if active:
            assert p.fire == () and p.decided_through == last  # the backlog waits
        started += fired(p)
        last = p.decided_through
        now += timedelta(minutes=1)
    assert started == hours(1, 2, 3, 4, 5)


def test_forbid_run_once_waits_for_the_active_run_then_fires() -> None:
    spec = hourly(concurrency_policy="forbid")
    waiting = plan(spec, T0, DOWN_UNTIL, active=True)
    assert fired(waiting) == []
    assert skips(waiting)[0][:3] == (T0 + H, T0 + 4 * H, 4)  # run_once's own skips
    assert fired(plan(spec, waiting.decided_through, DOWN_UNTIL)) == hours(5)


# --- long outages of frequent schedules stay cheap and bounded ---------------------------


def test_two_days_of_a_per_second_schedule() -> None:
    spec = schedules.ScheduleSpec(cron="* * * * * *", missed_runs="catch_up", max_catch_up=10)
    now = T0 + timedelta(days=2, seconds=30)
    p = plan(spec, T0, now)
    s = timedelta(seconds=1)
    assert fired(p) == [now - k * s for k in range(10, -1, -1)]
    [(first, last, count, _)] = skips(p)
    assert (first, last, count) == (T0 + s, now - 11 * s, None)  # more than COUNT_CAP


# --- each slot decided exactly once, whatever the clock does -----------------------------


@pytest.mark.parametrize(
    ("cron", "policy", "missed"),
    [
        ("*/15 * * * *", "allow", "catch_up"),
        ("30 2 * * *", "forbid", "run_once"),
        ("0 * * * *", "replace", "skip"),
        ("*/5 * * * *", "forbid", "catch_up"),
    ],
)
def test_every_slot_is_decided_once_across_outages_and_dst(
    cron: str, policy: str, missed: str
) -> None:
    spec = schedules.ScheduleSpec.model_validate(
        {
            "cron": cron,
            "timezone": "Europe/Berlin",
            "concurrency_policy": policy,
            "missed_runs": missed,
            "max_catch_up": 3,
            "starting_deadline_seconds": 3600,
        }
    )
    rng = random.Random(7)
    start = datetime(2026, 10, 20, tzinfo=UTC)
    now, last = start, start
    decided: list[datetime] = []
    while now < start + timedelta(days=10):
        now += timedelta(seconds=rng.choice([20, 40, 90, 600, 7200, 30000]))
        p = plan(spec, last, now, active=rng.random() < 0.3)
        assert p.decided_through >= last
        decided += fired(p)
        for s in p.skipped:
            assert s.count is not None
            decided += schedules.slots_between(
                spec, s.first - timedelta(seconds=1), s.last, s.count
            )
        last = p.decided_through
    final = plan(spec, last, now + timedelta(days=1), active=False)
    all_slots = schedules.slots_between(spec, start, last, 100_000)
    assert sorted(decided) == all_slots  # none twice, none lost
    assert final.decided_through >= last
