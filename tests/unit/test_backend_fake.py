"""FakeBackend: the scripted outcomes supervisor tests rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparkjobs import errors
from sparkjobs.backends.base import Status
from sparkjobs.backends.fake import FakeBackend
from sparkjobs.launch import LaunchPlan


def plan(run_id: str = "r1") -> LaunchPlan:
    return LaunchPlan(
        run_id=run_id,
        app_name="wordcount",
        spark_submit="spark-submit",
        master="local[1]",
        kind="python",
        main_file="wordcount.py",
    )


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend()


def submit(fake: FakeBackend, tmp_path: Path, run_id: str = "r1") -> dict[str, object]:
    work = tmp_path / run_id
    work.mkdir()
    return fake.submit(plan(run_id), work_dir=work, log_path=tmp_path / f"{run_id}.log")


def test_a_submitted_run_is_running_and_logged(fake: FakeBackend, tmp_path: Path) -> None:
    handle = submit(fake, tmp_path)
    seen = fake.poll(handle)
    assert (seen.status, seen.exit_code, seen.spark_app_id) == (Status.RUNNING, None, "fake-app-1")
    assert "started run r1" in (tmp_path / "r1.log").read_text()
    assert fake.submitted == [plan()]


def test_finish_by_handle_or_run_id(fake: FakeBackend, tmp_path: Path) -> None:
    first, second = submit(fake, tmp_path, "r1"), submit(fake, tmp_path, "r2")
    fake.finish(first, 0)
    fake.finish("r2", 3)
    assert (fake.poll(first).status, fake.poll(first).exit_code) == (Status.EXITED, 0)
    assert fake.poll(second).exit_code == 3
    assert fake.handle_of("r2") == second


def test_vanish_is_not_found(fake: FakeBackend, tmp_path: Path) -> None:
    handle = submit(fake, tmp_path)
    fake.vanish("r1")
    assert fake.poll(handle).status == Status.NOT_FOUND
    assert fake.poll({"fake_id": 99}).status == Status.NOT_FOUND
    assert fake.poll({"pid": 1}).status == Status.NOT_FOUND


def test_stop_ends_with_143_and_force_with_137(fake: FakeBackend, tmp_path: Path) -> None:
    soft, hard = submit(fake, tmp_path, "r1"), submit(fake, tmp_path, "r2")
    fake.stop(soft)
    fake.stop(hard, force=True)
    fake.stop(soft, force=True)  # already over: no change
    assert fake.poll(soft).exit_code == 143 and fake.poll(hard).exit_code == 137
    assert fake.stops == [(1, False), (2, True), (1, True)]


def test_a_stubborn_run_needs_force(fake: FakeBackend, tmp_path: Path) -> None:
    handle = submit(fake, tmp_path)
    fake.stubborn(handle)
    fake.stop(handle)
    assert fake.poll(handle).status == Status.RUNNING
    fake.stop(handle, force=True)
    assert fake.poll(handle).exit_code == 137


def test_fail_next_submit_fails_once(fake: FakeBackend, tmp_path: Path) -> None:
    fake.fail_next_submit("no room")
    with pytest.raises(errors.SubmitError, match="no room"):
        submit(fake, tmp_path, "r1")
    assert fake.poll(submit(fake, tmp_path, "r2")).status == Status.RUNNING


def test_cleanup_removes_the_work_dir(fake: FakeBackend, tmp_path: Path) -> None:
    handle = submit(fake, tmp_path)
    fake.cleanup(handle, work_dir=tmp_path / "r1")
    assert not (tmp_path / "r1").exists() and fake.cleanups == [1]


def test_unknown_runs_are_key_errors(fake: FakeBackend) -> None:
    with pytest.raises(KeyError):
        fake.finish("nope", 0)
