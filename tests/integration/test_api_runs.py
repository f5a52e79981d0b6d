"""Runs through the API, with the real supervisor and store and a FakeBackend in place of Spark."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sparkjobs.backends.fake import FakeBackend
from sparkjobs.config import Settings
from tests.integration import test_api_fixtures as fx
from tests.integration.test_api_fixtures import *  # noqa: F403  (the fixtures)

RUNS = "/api/v1/runs"


@pytest.fixture
def job(api: httpx.Client, apps_dir: Path) -> str:
    spec = {
        "name": "hello",
        "source": {"type": "path", "path": str(apps_dir / "app.py")},
        "args": ["in.txt"],
        "conf": {"spark.sql.shuffle.partitions": "4"},
    }
    assert api.put("/api/v1/jobs/hello", json=spec).status_code == 201
    return "hello"


def start(api: httpx.Client, job: str, **overrides: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/jobs/{job}/runs", json=overrides or None)
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


def state_of(api: httpx.Client, run_id: str) -> str:
    return str(api.get(f"{RUNS}/{run_id}").json()["state"])


def wait_state(api: httpx.Client, run_id: str, *states: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        run: dict[str, Any] = api.get(f"{RUNS}/{run_id}").json()
        return run if run["state"] in states else None

    return fx.wait_for(reached, what=f"run {run_id} to be {' or '.join(states)}")  # type: ignore[no-any-return]


def test_run_is_created_queued_with_the_jobs_args(api: httpx.Client, job: str) -> None:
    run = start(api, job)
    assert run["state"] in {"queued", "starting", "running"}
    assert (run["job"], run["job_version"], run["trigger"], run["attempt"]) == (job, 1, "api", 1)
    assert (run["args"], run["conf"], run["exit_code"], run["parent_id"]) == (
        ["in.txt"],
        None,
        None,
        None,
    )
    assert set(run) >= {"spark_app_id", "spark_ui_url", "created_at", "started_at",
                        "finished_at", "scheduled_for", "reason"}  # fmt: skip


def test_overrides_reach_the_backend_verbatim(
    api: httpx.Client, job: str, fake: FakeBackend
) -> None:
    tricky = ["$(touch /tmp/x)", "; rm -rf ~", "a b", "--flag", ""]
    run = start(api, job, args=tricky, conf={"spark.sql.shuffle.partitions": "8"})
    assert (run["args"], run["conf"]) == (tricky, {"spark.sql.shuffle.partitions": "8"})
    wait_state(api, run["id"], "running")
    plan = fx.wait_for(lambda: next((p for p in fake.submitted if p.run_id == run["id"]), None),
                       what="the submit")  # fmt: skip
    assert list(plan.args) == tricky
    assert plan.conf["spark.sql.shuffle.partitions"] == "8"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"args": ["ok", 3]}, 422, "string"),
        ({"conf": {"spark.master": "local"}}, 422, "spark.master"),
        ({"conf": {"not.spark": "1"}}, 422, "spark."),
        ({"env": [{"name": "1X", "value": "a"}]}, 422, "not a valid variable name"),
        ({"env": [{"name": "X", "keep": True}]}, 422, "no stored secret"),
    ],
)
def test_bad_overrides_are_refused(
    api: httpx.Client, job: str, body: dict[str, Any], status: int, words: str
) -> None:
    problem = fx.assert_problem(api.post(f"/api/v1/jobs/{job}/runs", json=body), status)
    assert words in problem["detail"]
    assert api.get(RUNS).json()["items"] == []


def test_unknown_job_and_run_are_404(api: httpx.Client) -> None:
    fx.assert_problem(api.post("/api/v1/jobs/nope/runs"), 404)
    for path in ("", "/events", "/logs"):
        fx.assert_problem(api.get(f"{RUNS}/0123abcd{path}"), 404)
    fx.assert_problem(api.post(f"{RUNS}/0123abcd/stop"), 404)
    fx.assert_problem(api.post(f"{RUNS}/0123abcd/rerun"), 404)


def test_exit_code_3_ends_failed_with_events(
    api: httpx.Client, job: str, fake: FakeBackend
) -> None:
    run = start(api, job)
    wait_state(api, run["id"], "running")
    fake.finish(run["id"], 3)
    ended = wait_state(api, run["id"], "failed")
    assert ended["exit_code"] == 3 and "3" in (ended["reason"] or "")
    assert ended["finished_at"] is not None and ended["spark_app_id"] is not None
    events = api.get(f"{RUNS}/{run['id']}/events").json()
    moves = [(e["from_state"], e["to_state"]) for e in events]
    assert moves[0] == (None, "queued")
    assert moves[-1][1] == "failed" and ("starting", "running") in moves
    assert all(e["reason"] and e["at"] for e in events)


def test_stop_is_202_then_stopped_and_409_once_ended(
    api: httpx.Client, job: str, fake: FakeBackend
) -> None:
    run = start(api, job)
    wait_state(api, run["id"], "running")
    stopping = api.post(f"{RUNS}/{run['id']}/stop")
    assert stopping.status_code == 202, stopping.text
    assert stopping.json()["state"] in {"stopping", "stopped"}
    wait_state(api, run["id"], "stopped")
    problem = fx.assert_problem(api.post(f"{RUNS}/{run['id']}/stop"), 409)
    assert "ended" in problem["detail"]


def test_rerun_repeats_the_version_and_overrides(
    api: httpx.Client, job: str, apps_dir: Path, fake: FakeBackend
) -> None:
    first = start(api, job, args=["x"], conf={"spark.sql.shuffle.partitions": "2"})
    wait_state(api, first["id"], "running")
    fake.finish(first["id"], 0)
    wait_state(api, first["id"], "succeeded")
    changed = {"name": job, "source": {"type": "path", "path": str(apps_dir / "app.py")},
               "args": ["new"]}  # fmt: skip
    assert api.put(f"/api/v1/jobs/{job}", json=changed).json()["version"] == 2

    again = api.post(f"{RUNS}/{first['id']}/rerun")
    assert again.status_code == 201, again.text
    rerun = again.json()
    assert (rerun["trigger"], rerun["parent_id"], rerun["job_version"]) == ("rerun", first["id"], 1)
    assert (rerun["args"], rerun["conf"]) == (["x"], {"spark.sql.shuffle.partitions": "2"})

    replaced = api.post(f"{RUNS}/{first['id']}/rerun", json={"args": ["y"]}).json()
    assert (replaced["args"], replaced["conf"]) == (["y"], {"spark.sql.shuffle.partitions": "2"})
    fx.assert_problem(api.post(f"{RUNS}/{first['id']}/rerun", json={"args": [1]}), 422)


def test_list_pages_newest_first_and_filters(api: httpx.Client, job: str) -> None:
    made = [start(api, job)["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get(RUNS, params=params).json()
        assert len(page["items"]) <= 2
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    assert [r["id"] for r in api.get(RUNS, params={"job": job}).json()["items"]] == seen
    assert api.get(RUNS, params={"job": "other"}).json() == {"items": [], "next_cursor": None}
    stopped = api.post(f"{RUNS}/{made[0]}/stop").json()["id"]
    wait_state(api, stopped, "stopped")
    only = api.get(RUNS, params={"state": "stopped"}).json()["items"]
    assert [r["id"] for r in only] == [stopped]
    fx.assert_problem(api.get(RUNS, params={"state": "sleeping"}), 422)
    fx.assert_problem(api.get(RUNS, params={"limit": 0}), 422)


def log_of(settings: Settings, run_id: str) -> Path:
    return settings.data_dir / "logs" / f"{run_id}.log"


def test_logs_whole_and_tail(api: httpx.Client, job: str, settings: Settings) -> None:
    run = start(api, job)
    wait_state(api, run["id"], "running")
    log = log_of(settings, run["id"])
    with log.open("a") as f:
        f.write("".join(f"line {i}\n" for i in range(1, 101)))
    whole = api.get(f"{RUNS}/{run['id']}/logs")
    assert whole.status_code == 200 and whole.headers["content-type"].startswith("text/plain")
    assert whole.text == log.read_text()
    assert api.get(f"{RUNS}/{run['id']}/logs", params={"tail": 2}).text == "line 99\nline 100\n"
    assert api.get(f"{RUNS}/{run['id']}/logs", params={"tail": 0}).text == ""
    fx.assert_problem(api.get(f"{RUNS}/{run['id']}/logs", params={"tail": -1}), 422)


def test_follow_streams_until_the_run_ends(
    api: httpx.Client, job: str, settings: Settings, fake: FakeBackend
) -> None:
    run = start(api, job)
    wait_state(api, run["id"], "running")
    log = log_of(settings, run["id"])

    def app_writes_then_exits() -> None:
        for i in range(3):
            time.sleep(0.3)
            with log.open("a") as f:
                f.write(f"tick {i}\n")
        fake.finish(run["id"], 0)

    writer = threading.Thread(target=app_writes_then_exits)
    chunks: list[str] = []
    with api.stream("GET", f"{RUNS}/{run['id']}/logs", params={"follow": "true"}) as response:
        assert response.status_code == 200
        writer.start()
        chunks.extend(response.iter_text())
    writer.join()
    text = "".join(chunks)
    assert text.endswith("tick 0\ntick 1\ntick 2\n")
    assert text == log.read_text()
    assert len(chunks) >= 2  # it arrived as it was written, not at the end
    assert state_of(api, run["id"]) == "succeeded"


def test_follow_of_an_ended_run_returns_its_log(
    api: httpx.Client, job: str, fake: FakeBackend
) -> None:
    run = start(api, job)
    wait_state(api, run["id"], "running")
    fake.finish(run["id"], 0)
    wait_state(api, run["id"], "succeeded")
    followed = api.get(f"{RUNS}/{run['id']}/logs", params={"follow": "true", "tail": 1})
    assert followed.text == api.get(f"{RUNS}/{run['id']}/logs", params={"tail": 1}).text != ""


def test_deleting_a_job_stops_its_runs_first(
    api: httpx.Client, job: str, fake: FakeBackend
) -> None:
    run = start(api, job)
    wait_state(api, run["id"], "running")
    assert api.delete(f"/api/v1/jobs/{job}").status_code == 204
    assert fake.stops, "the active run was not stopped"
    fx.assert_problem(api.get(f"/api/v1/jobs/{job}"), 404)
