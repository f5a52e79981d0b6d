"""sparkjobs.client.SparkJobsClient against the served API (FakeBackend in place of Spark)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sparkjobs.backends.fake import FakeBackend
from sparkjobs.client import ApiError, ServerUnreachable, SparkJobsClient
from tests.integration import test_api_fixtures as fx
from tests.integration.test_api_fixtures import *  # noqa: F403  (the fixtures)


@pytest.fixture
def client(api: httpx.Client) -> Iterator[SparkJobsClient]:
    with SparkJobsClient(str(api.base_url), fx.TOKEN, timeout=30) as sparkjobs:
        yield sparkjobs


def spec(apps: Path, **fields: object) -> dict[str, object]:
    return {"name": "hello", "source": {"type": "path", "path": str(apps / "app.py")}, **fields}


def test_jobs(client: SparkJobsClient, apps_dir: Path) -> None:
    job, created = client.apply_job(spec(apps_dir, labels={"team": "a"}))
    assert (job["name"], job["version"], created) == ("hello", 1, True)
    job, created = client.apply_job(spec(apps_dir, args=["x"], labels={"team": "a"}))
    assert (job["version"], created) == (2, False)
    assert client.get_job("hello")["spec"]["args"] == ["x"]
    assert client.get_job_version("hello", 1)["spec"]["args"] == []
    assert [j["name"] for j in client.list_jobs(labels={"team": "a"})] == ["hello"]
    assert client.list_jobs(name="zzz") == []
    client.delete_job("hello")
    with pytest.raises(ApiError) as caught:
        client.get_job("hello")
    assert caught.value.status == 404 and "sparkjobs jobs list" in caught.value.detail


def test_validation_errors_carry_fields(client: SparkJobsClient, apps_dir: Path) -> None:
    with pytest.raises(ApiError) as caught:
        client.create_job(spec(apps_dir, args=[1]))
    assert caught.value.status == 422
    assert caught.value.errors[0]["field"] == "args.0"


def test_runs_end_to_end(client: SparkJobsClient, apps_dir: Path, fake: FakeBackend) -> None:
    client.apply_job(spec(apps_dir, args=["a"]))
    run = client.run("hello", args=["; rm -rf ~"], conf={"spark.sql.shuffle.partitions": "2"})
    assert run["args"] == ["; rm -rf ~"]
    seen: list[str] = []
    threading.Timer(0.5, fake.finish, args=(run["id"], 3)).start()
    ended = client.wait(
        run["id"], poll_seconds=0.1, timeout=20, on_change=lambda r: seen.append(r["state"])
    )
    assert (ended["state"], ended["exit_code"]) == ("failed", 3)
    assert seen[-1] == "failed" and len(seen) == len(set(seen))
    assert "fake backend" in client.logs(run["id"])
    assert "".join(client.follow_logs(run["id"], tail=1)) == client.logs(run["id"], tail=1)
    assert [e["to_state"] for e in client.events(run["id"])][-1] == "failed"

    again = client.rerun(run["id"])
    assert (again["parent_id"], again["args"]) == (run["id"], ["; rm -rf ~"])
    stopped = client.stop(again["id"])
    assert stopped["state"] in {"stopping", "stopped"}
    page = client.list_runs(job="hello", limit=1)
    assert [r["id"] for r in page["items"]] == [again["id"]] and page["next_cursor"]
    older = client.list_runs(job="hello", limit=1, cursor=page["next_cursor"])
    assert [r["id"] for r in older["items"]] == [run["id"]]
    assert client.list_runs(states=["failed"])["items"][0]["id"] == run["id"]


def test_artifacts(client: SparkJobsClient, tmp_path: Path) -> None:
    app = tmp_path / "up.py"
    app.write_bytes(b"print('up')\n")
    artifact = client.upload_artifact(app)
    assert (artifact["filename"], artifact["size"]) == ("up.py", 12)
    assert client.get_artifact(artifact["id"]) == artifact
    assert client.list_artifacts() == [artifact]
    client.delete_artifact(artifact["id"])
    assert client.list_artifacts() == []


def test_no_server() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        nowhere = SparkJobsClient(f"http://127.0.0.1:{port}", "t", timeout=5)
        with nowhere, pytest.raises(ServerUnreachable, match="sparkjobs serve"):
            nowhere.list_jobs()


def test_wrong_token_is_an_api_error(api: httpx.Client) -> None:
    sparkjobs = SparkJobsClient(str(api.base_url), "wrong")
    with sparkjobs, pytest.raises(ApiError) as caught:
        sparkjobs.list_jobs()
    assert caught.value.status == 401
