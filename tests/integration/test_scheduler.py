"""The scheduler over a real store (SQLite and PostgreSQL), with an injected clock.

No sleeping: the clock is moved and tick() is called, so DST changes, outages
and suspensions of hours or days take milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sparkjobs import errors, jobs, runs, scheduler
from sparkjobs.backends.fake import FakeBackend
from sparkjobs.config import Settings
from sparkjobs.store import Database, repo
from sparkjobs.supervisor import Supervisor
from tests.support import Clock, InlineLauncher

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
EVERY_MINUTE = {"cron": "* * * * *"}


@dataclass
class World:
    db: Database
    clock: Clock
    sup: Supervisor
    sched: scheduler.Scheduler
    fake: FakeBackend
    settings: Settings
    apps: Path
    others: list[scheduler.Scheduler] = field(default_factory=list)

    def job(self, name: str = "nightly", **fields: Any) -> jobs.Job:
        app = self.apps / "app.py"
        app.write_text("print('hi')\n")
        spec = jobs.JobSpec.model_validate(
            {"name": name, "source": {"type": "path", "path": str(app)}, **fields}
        )
        with self.db.session() as s:
            try:
                repo.get_job(s, name)
            except errors.JobNotFound:
                return repo.create_job(s, spec, self.clock())
            return repo.update_job(s, spec, self.clock())

    def slots(self, job: str = "nightly") -> list[datetime]:
        """The scheduled_for of every run of the job, oldest first."""
        with self.db.session() as s:
            found = repo.list_runs(s, job=job, limit=10_000)[0]
        assert all(r.trigger is runs.Trigger.SCHEDULE for r in found if r.scheduled_for)
        return sorted(r.scheduled_for for r in found if r.scheduled_for is not None)

    def history(self, job: str = "nightly") -> list[repo.HistoryEntry]:
        with self.db.session() as s:
            return list(reversed(repo.list_history(s, job, limit=1000)))

    def step(self, **delta: float) -> int:
        self.clock.advance(**delta)
        return self.sched.tick()


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    apps = tmp_path / "apps"
    apps.mkdir()
    settings = Settings(
        data_dir=tmp_path / "data",
        default_backend="fake",
        allowed_source_dirs=[apps],
        schedule_lease_seconds=30,
    )
    db = Database(db_url)
    db.migrate()
    clock = Clock(T0)
    fake = FakeBackend()
    sup = Supervisor(
        settings, db, {"fake": fake}, clock=clock, instance_id="s1", launcher=InlineLauncher()
    )
    sched = scheduler.Scheduler(settings, db, sup, clock=clock, instance_id="s1")
    yield World(db, clock, sup, sched, fake, settings, apps)
    sup.shutdown()
    db.dispose()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# -- the store -----------------------------------------------------------------------------


def test_leases_keep_a_second_server_off_until_they_run_out(world: World) -> None:
    world.job(schedule=EVERY_MINUTE)
    db, now = world.db, T0 + timedelta(minutes=5)
    with db.session() as s:
        repo.add_missing_schedules(s)
        repo.add_missing_schedules(s)  # idempotent
        first = repo.claim_due_schedules(s, "a", now, 30, 10)
    assert [c.job.name for c in first] == ["nightly"]  # version 0: never looked at
    with db.session() as s:
        assert repo.claim_due_schedules(s, "b", now, 30, 10) == []
        assert [c.job.name for c in repo.claim_due_schedules(s, "a", now, 30, 10)] == ["nightly"]
        assert len(repo.claim_due_schedules(s, "b", now + timedelta(seconds=31), 30, 10)) == 1
    # "a" lost its lease to "b": its release changes nothing.
    update = repo.ScheduleUpdate(
        job="nightly", job_version=1, schedule_key="k", decided_through=now, next_due=now
    )
    with db.session() as s:
        repo.release_schedules(s, "a", [update])
        state = repo.get_schedule_state(s, "nightly")
    assert state is not None and state.lease_owner == "b" and state.decided_through is None


def test_a_slot_inserted_twice_makes_one_run_and_one_history_entry(world: World) -> None:
    job = world.job(schedule=EVERY_MINUTE)

    def run_for(slot: datetime) -> runs.Run:
        return runs.Run(
            id=repo.new_run_id(),
            job=job.name,
            job_version=1,
            state=runs.RunState.QUEUED,
            trigger=runs.Trigger.SCHEDULE,
            created_at=T0,
            scheduled_for=slot,
            backend="fake",
        )

    entry = repo.HistoryEntry(
        job="nightly", kind="skipped", first=T0, last=T0, count=1, run_id=None, reason="r", at=T0
    )
    with world.db.session() as s:
        first = repo.insert_scheduled_runs(s, [run_for(T0), run_for(T0 + timedelta(minutes=1))])
        again = repo.insert_scheduled_runs(s, [run_for(T0), run_for(T0 + timedelta(minutes=2))])
        repo.add_history(s, [entry])
        repo.add_history(s, [entry])
    assert len(first) == 2 and len(again) == 1
    assert len(world.slots()) == 3 and len(world.history()) == 1
    with world.db.session() as s:
        events = repo.list_events(s, next(iter(again)))
    assert [e.reason for e in events] == ["created by schedule"]


def test_migration_0002_makes_the_schedule_tables(world: World) -> None:
    tables = set(sa.inspect(world.db.engine).get_table_names())
    assert {"schedules", "schedule_history"} <= tables


# -- firing --------------------------------------------------------------------------------


def test_a_new_schedule_starts_from_now_then_fires_each_slot_once(world: World) -> None:
    world.job(schedule=EVERY_MINUTE)
    assert world.sched.tick() == 0  # first sight: nothing in the past fires
    assert world.step(seconds=50) == 0
    assert world.step(seconds=15) == 1  # 12:01 is due
    assert world.sched.tick() == 0  # the same slot is not fired twice
    assert world.step(minutes=1) == 1
    assert world.slots() == [at("2026-11-27T12:01:00+00:00"), at("2026-11-27T12:02:00+00:00")]
    assert [e.kind for e in world.history()] == ["fired", "fired"]
    world.sup.tick()  # the supervisor starts the queued runs on the fake backend
    assert len(world.fake.submitted) == 2


def test_two_schedulers_on_one_database_fire_each_slot_once(world: World) -> None:
    world.job(schedule=EVERY_MINUTE)
    other = scheduler.Scheduler(
        world.settings, world.db, world.sup, clock=world.clock, instance_id="s2"
    )
    world.sched.tick()
    for _ in range(30):
        world.clock.advance(seconds=31)  # past the lease: both may decide any slot
        world.sched.tick()
        other.tick()
    slots = world.slots()
    assert len(slots) == len(set(slots)) == 15
    assert all(b - a == timedelta(minutes=1) for a, b in pairwise(slots))


def test_a_stale_server_deciding_again_inserts_nothing(world: World) -> None:
    """A server that decided a slot but whose lease ran out: the other's run stays the only one."""
    world.job(schedule=EVERY_MINUTE)
    world.sched.tick()
    world.clock.advance(minutes=1)
    with world.db.session() as s:
        stale = repo.claim_due_schedules(s, "s1", world.clock(), 30, 10)
    world.clock.advance(seconds=31)
    other = scheduler.Scheduler(
        world.settings, world.db, world.sup, clock=world.clock, instance_id="s2"
    )
    assert other.tick() == 1
    assert world.sched._handle(stale, world.clock()) == 0  # decides 12:01 again
    assert len(world.slots()) == 1


def test_a_changed_cron_starts_from_now_without_a_burst(world: World) -> None:
    world.job(schedule=EVERY_MINUTE)
    world.sched.tick()
    world.step(minutes=1)
    world.clock.advance(hours=3)  # down for three hours, then the cron changes
    world.job(schedule={"cron": "*/5 * * * *", "missed_runs": "catch_up"})
    assert world.sched.tick() == 0
    assert world.step(minutes=5) == 1
    assert world.slots()[-1] == at("2026-11-27T15:05:00+00:00")
    # A change that keeps cron and zone keeps the decided slots (no reset, no gap).
    world.job(schedule={"cron": "*/5 * * * *", "missed_runs": "catch_up"}, args=["x"])
    assert world.step(minutes=10) == 2


def test_catch_up_of_100_missed_slots_fires_the_latest_10(world: World) -> None:
    world.job(schedule={**EVERY_MINUTE, "missed_runs": "catch_up", "max_catch_up": 10})
    world.sched.tick()
    world.clock.advance(minutes=100)  # 100 slots missed; the 100th is on time
    assert world.sched.tick() == 11
    slots = world.slots()
    assert slots[0] == T0 + timedelta(minutes=90) and slots[-1] == T0 + timedelta(minutes=100)
    skipped = [e for e in world.history() if e.kind == "skipped"]
    assert [(e.first, e.last, e.count) for e in skipped] == [
        (T0 + timedelta(minutes=1), T0 + timedelta(minutes=89), 89)
    ]
    assert "max_catch_up=10" in skipped[0].reason


@pytest.mark.parametrize(("policy", "fired", "skipped"), [("skip", 0, 24), ("run_once", 1, 23)])
def test_missed_slots_under_skip_and_run_once(
    world: World, policy: str, fired: int, skipped: int
) -> None:
    world.job(schedule={"cron": "*/5 * * * *", "missed_runs": policy})
    world.sched.tick()
    world.clock.advance(hours=2, minutes=2)  # 24 slots; the latest, 14:00, is 2 min old: missed
    assert world.sched.tick() == fired
    assert world.slots() == ([at("2026-11-27T14:00:00+00:00")] if fired else [])
    counts = [e.count or 0 for e in world.history() if e.kind == "skipped"]
    assert sum(counts) == skipped


def test_forbid_skips_a_slot_while_a_run_is_active_and_replace_stops_it(world: World) -> None:
    world.job(schedule={**EVERY_MINUTE, "concurrency_policy": "forbid"})
    world.sched.tick()
    world.step(minutes=1)
    world.sup.tick()
    world.sup.tick()  # the 12:01 run is running on the fake backend
    assert world.step(minutes=1) == 0
    skipped = [e for e in world.history() if e.kind == "skipped"]
    assert skipped[-1].first == T0 + timedelta(minutes=2) and "forbid" in skipped[-1].reason
    world.job(schedule={**EVERY_MINUTE, "concurrency_policy": "replace"})
    assert world.step(minutes=1) == 1
    with world.db.session() as s:
        first = repo.list_runs(s, job="nightly", limit=10)[0][-1]
    assert first.state is runs.RunState.STOPPING
    world.sup.tick()  # SIGTERM to the fake run
    world.sup.tick()  # it has ended: stopped
    with world.db.session() as s:
        assert repo.get_run(s, first.id).state is runs.RunState.STOPPED


def test_forbid_catches_up_one_at_a_time_after_the_active_run(world: World) -> None:
    world.job(schedule={**EVERY_MINUTE, "concurrency_policy": "forbid", "missed_runs": "catch_up"})
    world.sched.tick()
    world.clock.advance(minutes=3)
    assert world.sched.tick() == 1  # 12:01 fires; 12:02 and 12:03 wait
    world.sup.tick()
    assert world.step(seconds=1) == 0  # still active: they keep waiting, nothing skipped
    world.fake.finish(world.fake.submitted[0].run_id, 0)
    world.sup.tick()
    assert world.step(seconds=1) == 1
    assert world.slots() == [T0 + timedelta(minutes=m) for m in (1, 2)]


# -- DST, end to end through the store -------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "days", "expected_local"),
    [
        # Spring forward on 29 March 2026: 02:30 does not exist and runs once at 03:00.
        ("Europe/Berlin", ("2026-03-28", "2026-03-29", "2026-03-30"), ["02:30", "03:00", "02:30"]),
        # Fall back on 1 November 2026: 01:30 happens twice and runs once (the first).
        ("America/New_York", ("2026-10-31", "2026-11-01", "2026-11-02"), ["01:30"] * 3),
    ],
)
def test_a_daily_slot_across_dst_changes_fires_once_a_day(
    world: World, zone: str, days: tuple[str, ...], expected_local: list[str]
) -> None:
    from zoneinfo import ZoneInfo

    world.clock.now = datetime.fromisoformat(f"{days[0]}T00:00:00").replace(tzinfo=ZoneInfo(zone))
    cron = "30 1 * * *" if zone == "America/New_York" else "30 2 * * *"
    world.job(schedule={"cron": cron, "timezone": zone})
    world.sched.tick()
    for _ in range(3 * 24 * 4):  # every 15 minutes for three days
        world.step(minutes=15)
    local = [s.astimezone(ZoneInfo(zone)) for s in world.slots()]
    assert [t.strftime("%H:%M") for t in local] == expected_local
    assert [t.date().isoformat() for t in local] == list(days)


# -- suspend, resume, manual runs and the view -------------------------------------------------


def test_suspend_and_resume_record_what_was_missed(world: World) -> None:
    world.job(schedule=EVERY_MINUTE)  # missed_runs=run_once
    world.sched.tick()
    scheduler.suspend(world.db, "nightly", world.clock())
    scheduler.suspend(world.db, "nightly", world.clock())  # idempotent
    assert world.step(minutes=10) == 0
    view = scheduler.schedule_view(world.db, "nightly", world.clock())
    assert view["suspended"] is True and view["next_runs"] == []
    scheduler.resume(world.db, "nightly", world.clock())
    assert world.sched.tick() == 1  # one run for the latest of the 10 missed slots
    kinds = [(e.kind, e.count) for e in world.history()]
    assert kinds == [("suspended", None), ("resumed", None), ("skipped", 9), ("fired", 1)]


def test_resume_refuses_a_schedule_its_spec_suspends(world: World) -> None:
    world.job(schedule={**EVERY_MINUTE, "suspended": True})
    world.sched.tick()
    assert world.step(minutes=5) == 0
    with pytest.raises(errors.Conflict, match="suspended by its spec"):
        scheduler.resume(world.db, "nightly", world.clock())
    world.job(name="plain")
    with pytest.raises(errors.Invalid, match="has no schedule"):
        scheduler.suspend(world.db, "plain", world.clock())


def test_the_view_shows_next_runs_in_zone_and_utc_and_manual_runs(world: World) -> None:
    world.job(schedule={"cron": "0 2 * * *", "timezone": "Europe/Berlin"})
    world.sched.tick()
    run = world.sup.request_run("nightly", runs.RunOverrides())
    scheduler.record_manual(world.db, "nightly", run.id, world.clock())
    view = scheduler.schedule_view(world.db, "nightly", world.clock())
    assert view["next_runs"][0] == {
        "at": "2026-11-28T01:00:00+00:00",
        "local": "2026-11-28T02:00:00+01:00",
    }
    assert len(view["next_runs"]) == 5 and view["suspended"] is False
    assert view["history"][0]["kind"] == "manual" and view["history"][0]["run_id"] == run.id
    assert view["description"] and view["schedule"]["cron"] == "0 2 * * *"
    world.job(name="plain")
    scheduler.record_manual(world.db, "plain", run.id, world.clock())  # no schedule: nothing
    assert world.history("plain") == []


def test_a_job_deleted_meanwhile_does_not_hold_up_the_others(world: World) -> None:
    world.job(schedule=EVERY_MINUTE)
    world.job(name="other", schedule=EVERY_MINUTE)
    world.sched.tick()
    world.clock.advance(minutes=1)
    with world.db.session() as s:
        batch = repo.claim_due_schedules(s, "s1", world.clock(), 30, 10)
        repo.delete_job(s, "other")
    assert world.sched._handle(batch, world.clock()) == 1
    assert len(world.slots()) == 1


# -- deciding ahead ----------------------------------------------------------------------------

SLOT = T0 + timedelta(minutes=1)


def runs_of(world: World, job: str = "nightly") -> list[runs.Run]:
    with world.db.session() as s:
        return repo.list_runs(s, job=job, limit=100)[0]


def test_an_allow_slot_is_stored_ahead_and_started_at_its_slot(world: World) -> None:
    world.job(schedule=EVERY_MINUTE)
    world.sched.tick()
    world.clock.now = SLOT - timedelta(seconds=3)
    assert world.sched.tick() == 1
    (run,) = runs_of(world)
    assert run.scheduled_for == SLOT and run.not_before == SLOT
    assert run.created_at == SLOT - timedelta(seconds=3)
    world.sup.tick()
    assert world.fake.submitted == []  # held until its slot
    assert world.step(seconds=3) == 0  # the slot is decided already
    world.sup.tick()
    assert len(world.fake.submitted) == 1
    assert [(e.kind, e.first) for e in world.history()] == [("fired", SLOT)]
    assert world.step(seconds=60) == 1 and world.slots() == [SLOT, SLOT + timedelta(minutes=1)]


def test_forbid_and_replace_are_decided_at_the_slot_not_ahead(world: World) -> None:
    world.job(schedule={**EVERY_MINUTE, "concurrency_policy": "forbid"})
    world.job(name="other", schedule={**EVERY_MINUTE, "concurrency_policy": "replace"})
    world.sched.tick()
    world.clock.now = SLOT - timedelta(seconds=3)
    assert world.sched.tick() == 0
    assert world.step(seconds=3) == 2


def test_a_job_changed_before_its_slot_gets_a_run_of_the_new_version(world: World) -> None:
    world.job(schedule=EVERY_MINUTE)
    world.sched.tick()
    world.clock.now = SLOT - timedelta(seconds=4)
    world.sched.tick()
    (early,) = runs_of(world)
    world.job(schedule=EVERY_MINUTE, args=["new"])  # version 2, same slots
    assert world.step(seconds=1) == 1
    (run,) = runs_of(world)
    assert run.id != early.id and run.job_version == 2 and run.scheduled_for == SLOT
    assert [(e.kind, e.run_id) for e in world.history()] == [("fired", run.id)]


@pytest.mark.parametrize(
    "schedule",
    [
        {"cron": "*/5 * * * *"},  # 12:01 is no slot any more
        {**EVERY_MINUTE, "concurrency_policy": "forbid"},  # decided at the slot instead
        {**EVERY_MINUTE, "suspended": True},
    ],
)
def test_a_run_decided_ahead_is_withdrawn_when_the_change_says_so(
    world: World, schedule: dict[str, Any]
) -> None:
    world.job(schedule=EVERY_MINUTE)
    world.sched.tick()
    world.clock.now = SLOT - timedelta(seconds=4)
    world.sched.tick()
    world.job(schedule=schedule)
    assert world.step(seconds=1) == 0
    assert runs_of(world) == [] and world.history() == []
    fired = world.step(seconds=3)  # the slot itself
    assert fired == (1 if schedule.get("concurrency_policy") == "forbid" else 0)


def test_suspend_withdraws_the_run_decided_ahead_and_resume_counts_its_slot_missed(
    world: World,
) -> None:
    world.job(schedule=EVERY_MINUTE)  # missed_runs=run_once
    world.sched.tick()
    world.clock.now = SLOT - timedelta(seconds=4)
    world.sched.tick()
    scheduler.suspend(world.db, "nightly", world.clock())
    assert runs_of(world) == []
    world.sup.tick()
    assert world.step(minutes=2, seconds=30) == 0 and world.fake.submitted == []  # 12:03:26
    scheduler.resume(world.db, "nightly", world.clock())
    assert world.sched.tick() == 1  # the latest of 12:01, 12:02, 12:03
    assert world.slots() == [T0 + timedelta(minutes=3)]
    skipped = [(e.first, e.count) for e in world.history() if e.kind == "skipped"]
    assert skipped == [(SLOT, 2)]


def test_scheduled_run_parameters_match_the_stored_row_shape(world: World) -> None:
    """The scheduler's fast path to a runs row says what _convert.run_row says."""
    from sparkjobs.store import _convert, _schedules

    run = runs.Run(
        id="r1",
        job="nightly",
        job_version=3,
        state=runs.RunState.QUEUED,
        trigger=runs.Trigger.SCHEDULE,
        overrides=runs.RunOverrides(args=["a"]),
        created_at=T0,
        not_before=SLOT,
        scheduled_for=SLOT,
        backend="fake",
    )
    row = _convert.run_row(run)
    expected = {c.key: getattr(row, c.key) for c in _schedules._table(type(row)).columns}
    assert _schedules._run_values(run) == expected
