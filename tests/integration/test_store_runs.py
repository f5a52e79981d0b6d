"""Runs, their state changes and events in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sparkjobs import errors, jobs, runs
from sparkjobs.store import Database, repo

NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
S = runs.RunState


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    with database.session() as s:
        for name in ("wordcount", "report"):
            spec = jobs.JobSpec(name=name, source=jobs.ArtifactSource(id="abcdef12"))
            repo.create_job(s, spec, NOW)
    yield database
    database.dispose()


def make_run(job: str = "wordcount", **fields: Any) -> runs.Run:
    values: dict[str, Any] = {
        "id": repo.new_run_id(),
        "job": job,
        "job_version": 1,
        "state": S.QUEUED,
        "trigger": runs.Trigger.API,
        "created_at": NOW,
    } | fields
    return runs.Run(**values)


def insert(db: Database, *new: runs.Run) -> None:
    with db.session() as s:
        for run in new:
            repo.insert_run(s, run)


def test_insert_run_round_trips_every_field_and_records_its_creation(db: Database) -> None:
    run = make_run(
        trigger=runs.Trigger.RETRY,
        attempt=2,
        overrides=runs.RunOverrides(args=["a"], conf={"spark.x": "1"}, env=[{"name": "A"}]),
        not_before=NOW + timedelta(seconds=30),
        parent_id="0123456789ab",
        backend="kubernetes",
        handle={"job": "sj-1", "uid": 7},
        owner="server-1",
    )
    insert(db, run)
    with db.session() as s:
        assert repo.get_run(s, run.id) == run
        assert repo.list_events(s, run.id) == [
            runs.RunEvent(
                run_id=run.id, at=NOW, from_state=None, to_state=S.QUEUED, reason="created by retry"
            )
        ]


def test_insert_run_of_a_missing_job_or_version_raises_job_not_found(db: Database) -> None:
    with pytest.raises(errors.JobNotFound, match="job 'nope' not found"), db.session() as s:
        repo.insert_run(s, make_run("nope"))
    with pytest.raises(errors.JobNotFound, match="no version 9"), db.session() as s:
        repo.insert_run(s, make_run(job_version=9))


def test_a_scheduled_slot_fires_once(db: Database) -> None:
    slot = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    first = make_run(trigger=runs.Trigger.SCHEDULE, scheduled_for=slot)
    insert(db, first)
    with pytest.raises(errors.Conflict, match="a run for job wordcount at 2026-03-01T06:00:00"):
        insert(db, make_run(trigger=runs.Trigger.SCHEDULE, scheduled_for=slot))
    # Another job's slot, another slot, and unscheduled runs do not clash.
    insert(db, make_run("report", scheduled_for=slot))
    insert(db, make_run(scheduled_for=slot + timedelta(hours=1)))
    insert(db, make_run(), make_run())
    with db.session() as s:
        assert repo.get_run(s, first.id).scheduled_for == slot
        assert len(repo.list_runs(s)[0]) == 5


def test_transition_moves_the_run_sets_fields_and_records_events(db: Database) -> None:
    run = make_run()
    insert(db, run)
    t1, t2 = NOW + timedelta(seconds=1), NOW + timedelta(seconds=20)
    with db.session() as s:
        started = repo.transition(
            s, run.id, S.QUEUED, S.STARTING, "picked up", t1, handle={"pid": 42}, owner="me"
        )
        running = repo.transition(s, run.id, S.STARTING, S.RUNNING, "driver up", t1, started_at=t1)
    with db.session() as s:
        done = repo.transition(
            s, run.id, S.RUNNING, S.SUCCEEDED, "exit code 0", t2, exit_code=0, finished_at=t2
        )
        events = repo.list_events(s, run.id)
    assert (started.state, started.handle, started.owner) == (S.STARTING, {"pid": 42}, "me")
    assert (running.state, running.started_at) == (S.RUNNING, t1)
    assert done == replace(
        running, state=S.SUCCEEDED, reason="exit code 0", exit_code=0, finished_at=t2
    )
    assert [(e.from_state, e.to_state, e.reason, e.at) for e in events] == [
        (None, S.QUEUED, "created by api", NOW),
        (S.QUEUED, S.STARTING, "picked up", t1),
        (S.STARTING, S.RUNNING, "driver up", t1),
        (S.RUNNING, S.SUCCEEDED, "exit code 0", t2),
    ]


def test_illegal_transition_changes_nothing(db: Database) -> None:
    run = make_run(state=S.SUCCEEDED)
    insert(db, run)
    with (
        pytest.raises(errors.InvalidTransition, match="from succeeded to running"),
        db.session() as s,
    ):
        repo.transition(s, run.id, S.SUCCEEDED, S.RUNNING, "again?", NOW)
    with db.session() as s:
        assert repo.get_run(s, run.id).state is S.SUCCEEDED
        assert len(repo.list_events(s, run.id)) == 1


def test_transition_of_a_missing_run_raises_run_not_found(db: Database) -> None:
    with pytest.raises(errors.RunNotFound, match="run 'feedbeef0000' not found"), db.session() as s:
        repo.transition(s, "feedbeef0000", S.QUEUED, S.STARTING, "go", NOW)


def test_transition_from_a_state_the_run_is_not_in_raises_stale_state(db: Database) -> None:
    run = make_run(state=S.RUNNING)
    insert(db, run)
    with (
        pytest.raises(errors.StaleState, match=f"run {run.id} is running now, not queued"),
        db.session() as s,
    ):
        repo.transition(s, run.id, S.QUEUED, S.STARTING, "go", NOW)


def test_of_two_racing_sessions_the_first_transition_wins(db: Database) -> None:
    run = make_run(state=S.RUNNING)
    insert(db, run)
    with db.session() as loser:
        assert repo.get_run(loser, run.id).state is S.RUNNING
        with db.session() as winner:
            assert repo.get_run(winner, run.id).state is S.RUNNING
            repo.transition(winner, run.id, S.RUNNING, S.SUCCEEDED, "exit code 0", NOW, exit_code=0)
        with pytest.raises(errors.StaleState, match="is succeeded now, not running"):
            repo.transition(loser, run.id, S.RUNNING, S.FAILED, "exit code 1", NOW, exit_code=1)
    with db.session() as s:
        assert repo.get_run(s, run.id).exit_code == 0
        assert [e.to_state for e in repo.list_events(s, run.id)] == [S.RUNNING, S.SUCCEEDED]


def test_of_threads_racing_to_stop_a_run_exactly_one_wins(db: Database) -> None:
    run = make_run(state=S.RUNNING)
    insert(db, run)
    start = threading.Barrier(4)

    def stop(i: int) -> str:
        start.wait(timeout=10)
        try:
            with db.session() as s:
                repo.transition(s, run.id, S.RUNNING, S.STOPPING, f"stop {i}", NOW)
        except errors.StaleState:
            return "stale"
        return "won"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(stop, range(4)))
    assert outcomes == ["stale", "stale", "stale", "won"]
    with db.session() as s:
        assert len(repo.list_events(s, run.id)) == 2


def test_transition_and_update_refuse_fields_that_are_not_run_fields(db: Database) -> None:
    run = make_run()
    insert(db, run)
    with db.session() as s:
        with pytest.raises(TypeError, match=r"transition\(\) cannot set run field\(s\) job_name"):
            repo.transition(s, run.id, S.QUEUED, S.STARTING, "go", NOW, job_name="x")
        with pytest.raises(TypeError, match="state"):
            repo.update_run(s, run.id, state="running")
        assert repo.get_run(s, run.id).state is S.QUEUED


def test_update_run_sets_fields_but_not_the_state(db: Database) -> None:
    run = make_run(state=S.RUNNING)
    insert(db, run)
    with db.session() as s:
        updated = repo.update_run(s, run.id, spark_app_id="app-1", spark_ui_url="http://x:4040")
    with db.session() as s:
        assert repo.get_run(s, run.id) == updated
        with pytest.raises(errors.RunNotFound):
            repo.update_run(s, "feedbeef0000", owner="x")
    assert updated == replace(run, spark_app_id="app-1", spark_ui_url="http://x:4040")


def test_list_runs_pages_newest_first_with_filters(db: Database) -> None:
    # 7 matching runs, two of them sharing a created_at, among runs that do not match.
    matching = [make_run(created_at=NOW + timedelta(minutes=i)) for i in range(6)]
    matching.append(make_run(created_at=NOW + timedelta(minutes=3), state=S.RUNNING))
    others = [make_run("report"), make_run(state=S.FAILED, created_at=NOW + timedelta(hours=1))]
    insert(db, *matching, *others)
    expected = sorted(matching, key=lambda r: (r.created_at, r.id), reverse=True)
    filters: dict[str, Any] = {"job": "wordcount", "states": {S.QUEUED, S.RUNNING}, "limit": 3}
    with db.session() as s:
        page1, cursor1 = repo.list_runs(s, **filters)
        page2, cursor2 = repo.list_runs(s, **filters, cursor=cursor1)
        page3, cursor3 = repo.list_runs(s, **filters, cursor=cursor2)
        assert repo.list_runs(s, states=[S.FAILED]) == ([others[1]], None)
    assert [len(page1), len(page2), len(page3)] == [3, 3, 1]
    assert page1 + page2 + page3 == expected
    assert cursor1 and cursor2 and cursor3 is None


def test_list_runs_refuses_a_bad_cursor_or_limit(db: Database) -> None:
    with db.session() as s:
        for bad in ("not a cursor", "WzEsMl0", "e30"):
            with pytest.raises(errors.Invalid, match="cursor is not valid") as caught:
                repo.list_runs(s, cursor=bad)
            assert caught.value.field == "cursor"
        with pytest.raises(errors.Invalid, match="limit must be at least 1"):
            repo.list_runs(s, limit=0)


def test_runs_in_states_oldest_first_by_backend_and_owner(db: Database) -> None:
    a = make_run(created_at=NOW + timedelta(seconds=2), state=S.RUNNING, owner="one")
    b = make_run(created_at=NOW + timedelta(seconds=1), state=S.STARTING, owner="two")
    c = make_run(created_at=NOW, state=S.RUNNING, backend="kubernetes", owner="one")
    d = make_run(state=S.SUCCEEDED, owner="one")
    insert(db, a, b, c, d)
    with db.session() as s:
        assert repo.runs_in_states(s, runs.LAUNCHED) == [c, b, a]
        assert repo.runs_in_states(s, runs.LAUNCHED, backend="local") == [b, a]
        assert repo.runs_in_states(s, runs.LAUNCHED, owner="one") == [c, a]
        assert repo.runs_in_states(s, [S.QUEUED]) == []
        assert repo.count_runs_in_states(s, runs.ACTIVE) == 3
        assert repo.count_runs_in_states(s, runs.ACTIVE, owner="one") == 2
        assert repo.count_runs_in_states(s, runs.TERMINAL) == 1


def test_runs_in_states_keeps_ready_runs_of_given_backends_up_to_a_limit(db: Database) -> None:
    later = NOW + timedelta(minutes=5)
    ready = [make_run(created_at=NOW + timedelta(seconds=i)) for i in range(3)]
    waiting = make_run(not_before=later, created_at=NOW - timedelta(seconds=1))
    elsewhere = make_run(backend="kubernetes", created_at=NOW - timedelta(seconds=2))
    insert(db, *ready, waiting, elsewhere)
    with db.session() as s:
        got = repo.runs_in_states(s, [S.QUEUED], backends=["local"], ready_by=NOW, limit=2)
        at_slot = repo.runs_in_states(s, [S.QUEUED], backends=["local"], ready_by=later)
    assert [r.id for r in got] == [ready[0].id, ready[1].id]
    assert [r.id for r in at_slot] == [waiting.id, *(r.id for r in ready)]
