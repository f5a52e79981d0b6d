"""The supervisor over a real store (SQLite and PostgreSQL) and the FakeBackend.

The clock is injected and the loop is stepped with tick(), so every path
(timeouts, backoff, stop escalation) is exercised without sleeping.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sparkjobs import errors, jobs, runs
from sparkjobs.backends.fake import FakeBackend
from sparkjobs.config import Settings
from sparkjobs.runs import RunState
from sparkjobs.store import Database, repo
from sparkjobs.supervisor import Supervisor
from tests.support import Clock, InlineLauncher

S = RunState


@dataclass
class World:
    sup: Supervisor
    fake: FakeBackend
    db: Database
    clock: Clock
    settings: Settings
    apps: Path

    def job(self, name: str = "wc", **fields: Any) -> jobs.Job:
        app = self.apps / fields.pop("file", "app.py")
        if not app.exists():
            app.write_text("print('hi')\n")
        spec = jobs.JobSpec.model_validate(
            {"name": name, "source": {"type": "path", "path": str(app)}, **fields}
        )
        with self.db.session() as s:
            return repo.create_job(s, spec, self.clock())

    def run(self, run_id: str) -> runs.Run:
        with self.db.session() as s:
            return repo.get_run(s, run_id)

    def states(self, run_id: str) -> list[str]:
        with self.db.session() as s:
            return [e.to_state.value for e in repo.list_events(s, run_id)]

    def all_runs(self, job: str = "wc") -> list[runs.Run]:
        with self.db.session() as s:
            return repo.list_runs(s, job=job, limit=100)[0]


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    apps = tmp_path / "apps"
    apps.mkdir()
    settings = Settings(
        data_dir=tmp_path / "data",
        default_backend="fake",
        allowed_source_dirs=[apps],
        stop_grace_seconds=10,
        max_concurrent_runs=2,
    )
    db = Database(db_url)
    db.migrate()
    clock = Clock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    fake = FakeBackend()
    sup = Supervisor(
        settings,
        db,
        {"fake": fake},
        clock=clock,
        instance_id="test-server",
        launcher=InlineLauncher(),
    )
    yield World(sup, fake, db, clock, settings, apps)
    db.dispose()


def started(w: World, **job_fields: Any) -> runs.Run:
    w.job(**job_fields)
    run = w.sup.request_run("wc", runs.RunOverrides())
    w.sup.tick()  # claimed and submitted
    w.sup.tick()  # the fake reports RUNNING
    assert w.run(run.id).state is S.RUNNING
    return w.run(run.id)


def test_a_successful_run_walks_every_state_and_cleans_up(world: World) -> None:
    run = started(world)
    assert run.started_at is not None and run.spark_app_id == "fake-app-1"
    assert (world.settings.logs_dir / f"{run.id}.log").read_text().startswith("fake backend")
    world.fake.finish(run.id, 0)
    world.sup.tick()
    done = world.run(run.id)
    assert done.state is S.SUCCEEDED and done.exit_code == 0 and done.finished_at is not None
    assert world.states(run.id) == ["queued", "starting", "running", "succeeded"]
    assert world.fake.cleanups == [1]
    assert not (world.settings.runs_dir / run.id).exists()


def test_a_non_zero_exit_fails_with_the_exit_code(world: World) -> None:
    run = started(world)
    world.fake.finish(run.id, 3)
    world.sup.tick()
    done = world.run(run.id)
    assert done.state is S.FAILED and done.exit_code == 3
    assert done.reason is not None and done.reason.startswith("exit code 3")


def test_stop_sends_sigterm_and_ends_stopped(world: World) -> None:
    run = started(world)
    assert world.sup.request_stop(run.id).state is S.STOPPING
    world.sup.tick()  # SIGTERM
    world.sup.tick()  # observed the exit
    assert world.run(run.id).state is S.STOPPED
    assert world.fake.stops == [(1, False)]
    assert world.states(run.id)[-2:] == ["stopping", "stopped"]


def test_a_run_that_ignores_sigterm_is_killed_after_the_grace_period(world: World) -> None:
    world.sup = Supervisor(
        world.settings.model_copy(update={"stop_grace_seconds": 0.0}),
        world.db,
        {"fake": world.fake},
        clock=world.clock,
        instance_id="test-server",
        launcher=InlineLauncher(),
    )
    run = started(world)
    world.fake.stubborn(run.id)
    world.sup.request_stop(run.id)
    world.sup.tick()  # SIGTERM, ignored
    world.sup.tick()  # grace (0 s) over: SIGKILL
    world.sup.tick()
    assert world.fake.stops == [(1, False), (1, True)]
    assert world.run(run.id).state is S.STOPPED


def test_stopping_a_queued_run_never_starts_it(world: World) -> None:
    world.job()
    run = world.sup.request_run("wc", runs.RunOverrides())
    assert world.sup.request_stop(run.id).state is S.STOPPED
    world.sup.tick()
    assert world.fake.submitted == []


def test_stopping_an_ended_run_is_a_conflict(world: World) -> None:
    run = started(world)
    world.fake.finish(run.id, 0)
    world.sup.tick()
    with pytest.raises(errors.InvalidTransition, match="already ended"):
        world.sup.request_stop(run.id)


def test_a_run_past_its_timeout_is_stopped_and_marked_timed_out(world: World) -> None:
    run = started(world, timeout_seconds=60)
    world.clock.advance(59)
    world.sup.tick()
    assert world.run(run.id).state is S.RUNNING
    world.clock.advance(2)
    world.sup.tick()  # -> stopping
    world.sup.tick()  # SIGTERM
    world.sup.tick()
    done = world.run(run.id)
    assert done.state is S.TIMED_OUT and done.reason == "timed out after 60 s"


def test_a_failure_is_retried_after_exponential_backoff(world: World) -> None:
    run = started(world, retries={"max_attempts": 3, "backoff_seconds": 30})
    world.fake.finish(run.id, 1)
    world.sup.tick()
    retry = next(r for r in world.all_runs() if r.trigger is runs.Trigger.RETRY)
    assert retry.attempt == 2 and retry.parent_id == run.id
    assert retry.not_before == world.clock() + timedelta(seconds=30)
    world.clock.advance(29)
    world.sup.tick()
    assert world.run(retry.id).state is S.QUEUED
    world.clock.advance(2)
    world.sup.tick()
    assert world.run(retry.id).state is S.STARTING


def test_the_last_attempt_is_not_retried_and_stop_is_never_retried(world: World) -> None:
    run = started(world, retries={"max_attempts": 2, "backoff_seconds": 0})
    world.sup.request_stop(run.id)
    world.sup.tick()
    world.sup.tick()
    assert [r.state for r in world.all_runs()] == [S.STOPPED]


def test_a_submit_error_fails_the_run_with_the_cause(world: World) -> None:
    world.job()
    world.fake.fail_next_submit("no capacity in the cluster")
    run = world.sup.request_run("wc", runs.RunOverrides())
    world.sup.tick()
    done = world.run(run.id)
    assert done.state is S.FAILED
    assert done.reason == "could not start: no capacity in the cluster"
    assert "no capacity" in (world.settings.logs_dir / f"{run.id}.log").read_text()


def test_a_jar_without_main_class_fails_with_what_to_do(world: World) -> None:
    jar = world.apps / "app.jar"
    with zipfile.ZipFile(jar, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    world.job(file="app.jar")
    run = world.sup.request_run("wc", runs.RunOverrides())
    world.sup.tick()
    assert (
        world.run(run.id).reason == "could not start: jar app.jar has no Main-Class; set main_class"
    )


def test_a_jar_whose_manifest_names_a_main_class_needs_none(world: World) -> None:
    jar = world.apps / "app.jar"
    with zipfile.ZipFile(jar, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMain-Class: org.x.Main\n")
    world.job(file="app.jar")
    world.sup.request_run("wc", runs.RunOverrides())
    world.sup.tick()
    assert world.fake.submitted[0].kind == "jar"


def test_concurrent_runs_are_capped_and_the_rest_wait_queued(world: World) -> None:
    world.job()
    ids = []
    for _ in range(3):
        ids.append(world.sup.request_run("wc", runs.RunOverrides()).id)
        world.clock.advance(1)  # oldest first: the order they were asked for
    world.sup.tick()
    assert [world.run(i).state for i in ids] == [S.STARTING, S.STARTING, S.QUEUED]
    world.fake.finish(ids[0], 0)
    world.sup.tick()
    assert world.run(ids[2]).state is S.STARTING


def test_a_vanished_process_makes_the_run_lost(world: World) -> None:
    run = started(world)
    world.fake.vanish(run.id)
    world.sup.tick()
    done = world.run(run.id)
    assert done.state is S.LOST and done.reason == "the fake run vanished"


def test_a_restarted_supervisor_reattaches_to_runs_that_still_live(world: World) -> None:
    run = started(world)
    again = Supervisor(
        world.settings,
        world.db,
        {"fake": world.fake},
        clock=world.clock,
        instance_id="test-server",
        launcher=InlineLauncher(),
    )
    again.tick()
    assert world.run(run.id).state is S.RUNNING
    world.fake.finish(run.id, 0)
    again.tick()
    assert world.run(run.id).state is S.SUCCEEDED


def test_a_restarted_supervisor_marks_runs_it_cannot_find_lost(world: World) -> None:
    run = started(world)
    amnesiac = Supervisor(
        world.settings, world.db, {"fake": FakeBackend()}, clock=world.clock,
        instance_id="test-server",
    )  # fmt: skip
    amnesiac.tick()
    assert world.run(run.id).state is S.LOST


def test_other_servers_leave_a_run_alone(world: World) -> None:
    run = started(world)
    other = Supervisor(
        world.settings, world.db, {"fake": FakeBackend()}, clock=world.clock, instance_id="other"
    )
    other.tick()
    assert world.run(run.id).state is S.RUNNING


def test_rerun_repeats_the_version_and_overrides(world: World) -> None:
    world.job(args=["a"])
    first = world.sup.request_run("wc", runs.RunOverrides(args=["b"]))
    with world.db.session() as s:
        repo.update_job(
            s,
            jobs.JobSpec.model_validate(
                {"name": "wc", "source": {"type": "path", "path": str(world.apps / "app.py")}}
            ),
            world.clock(),
        )
    again = world.sup.rerun(first.id, None)
    assert (again.job_version, again.trigger, again.parent_id) == (1, runs.Trigger.RERUN, first.id)
    assert world.sup.effective_args(again) == ["b"]
    other = world.sup.rerun(first.id, runs.RunOverrides(args=["c"]))
    assert world.sup.effective_args(other) == ["c"]


def test_refused_conf_in_overrides_stores_nothing(world: World) -> None:
    world.job()
    with pytest.raises(errors.RefusedConf):
        world.sup.request_run("wc", runs.RunOverrides(conf={"spark.master": "yarn"}))
    assert world.all_runs() == []


def test_delete_job_stops_its_runs_first(world: World) -> None:
    run = started(world)
    world.sup.start()
    try:
        world.sup.delete_job("wc")
    finally:
        world.sup.shutdown()
    assert world.fake.stops and world.fake.stops[0][0] == 1
    with world.db.session() as s, pytest.raises(errors.JobNotFound):
        repo.get_job(s, "wc")
    with world.db.session() as s, pytest.raises(errors.RunNotFound):
        repo.get_run(s, run.id)
