"""Job inputs wired end to end through the real API, supervisor and store (SQLite and
PostgreSQL), a FakeBackend in place of Spark: env from bindings, the job and the run merged
in that order; secrets sealed, shown as set, and masked in logs, reasons and events; bad
input refused with nothing stored."""

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

JOBS = "/api/v1/jobs"
RUNS = "/api/v1/runs"
BINDING_SECRET = "bind-pw-Q7x2"
JOB_SECRET = "job-token-M4k8"
RUN_SECRET = "run-token-Z3p5"
SET = {"value": None, "secret": "set"}


def plain(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def secret(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "secret": value}


@pytest.fixture
def cache(api: httpx.Client) -> str:
    env = [
        plain("CACHE_HOST", "cache.svc"),
        secret("CACHE_PASSWORD", BINDING_SECRET),
        plain("MODE", "binding"),
    ]
    assert api.post("/api/v1/bindings", json={"name": "cache", "env": env}).status_code == 201
    return "cache"


@pytest.fixture
def job(api: httpx.Client, apps_dir: Path, cache: str) -> str:
    env = [plain("MODE", "job"), secret("JOB_TOKEN", JOB_SECRET)]
    body = fx.job_body("hello", apps_dir, env=env, bindings=[cache])
    assert api.post(JOBS, json=body).status_code == 201
    return "hello"


def start(api: httpx.Client, job: str, **body: Any) -> dict[str, Any]:
    response = api.post(f"{JOBS}/{job}/runs", json=body or None)
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


def submitted(fake: FakeBackend, run_id: str) -> Any:
    return fx.wait_for(
        lambda: next((p for p in fake.submitted if p.run_id == run_id), None),
        what=f"run {run_id} to reach the backend",
    )


def reasons(api: httpx.Client, run_id: str) -> list[str]:
    return [e["reason"] for e in api.get(f"{RUNS}/{run_id}/events").json()]


def test_env_is_bindings_then_job_then_run_and_events_say_whence(
    api: httpx.Client, fake: FakeBackend, job: str
) -> None:
    override = [plain("RUN_FLAG", "on"), secret("JOB_TOKEN", RUN_SECRET)]
    run = start(api, job, env=override)
    assert run["env"] == [
        {"name": "RUN_FLAG", "value": "on", "secret": None},
        {"name": "JOB_TOKEN", **SET},
    ]
    plan = submitted(fake, run["id"])
    assert plan.env == {
        "CACHE_HOST": "cache.svc",
        "CACHE_PASSWORD": BINDING_SECRET,
        "MODE": "job",
        "JOB_TOKEN": RUN_SECRET,
        "RUN_FLAG": "on",
    }
    assert sorted(plan.secrets) == sorted([BINDING_SECRET, RUN_SECRET])
    said = fx.wait_for(
        lambda: [r for r in reasons(api, run["id"]) if r.startswith("env ")] or None,
        what="the env notes",
    )
    assert said == [
        "env CACHE_HOST from binding 'cache'",
        "env CACHE_PASSWORD from binding 'cache'",
        "env MODE from the job (overrides binding 'cache')",
        "env JOB_TOKEN from the job",
        "env RUN_FLAG from the run's overrides",
        "env JOB_TOKEN from the run's overrides (replaces the job's or a binding's)",
    ]
    everything = api.get(f"{RUNS}/{run['id']}").text + api.get(f"{RUNS}/{run['id']}/events").text
    for value in (BINDING_SECRET, JOB_SECRET, RUN_SECRET):
        assert value not in everything


def test_rerun_keeps_or_replaces_the_env_override(
    api: httpx.Client, fake: FakeBackend, job: str
) -> None:
    first = start(api, job, env=[secret("RUN_ONLY", RUN_SECRET)])
    same = api.post(f"{RUNS}/{first['id']}/rerun").json()
    assert submitted(fake, same["id"]).env["RUN_ONLY"] == RUN_SECRET
    changed = api.post(f"{RUNS}/{first['id']}/rerun", json={"env": [plain("OTHER", "1")]})
    plan = submitted(fake, changed.json()["id"])
    assert ("RUN_ONLY" not in plan.env, plan.env["OTHER"]) == (True, "1")


def test_job_secrets_show_as_set_and_keep_makes_no_new_version(
    api: httpx.Client, apps_dir: Path, job: str, fake: FakeBackend
) -> None:
    shown = api.get(f"{JOBS}/{job}").json()
    assert shown["spec"]["env"] == [
        {"name": "MODE", "value": "job", "secret": None},
        {"name": "JOB_TOKEN", **SET},
    ]
    assert api.get(f"{JOBS}/{job}/versions/1").json()["spec"]["env"] == shown["spec"]["env"]
    resent = fx.job_body(
        job,
        apps_dir,
        env=[plain("MODE", "job"), secret("JOB_TOKEN", JOB_SECRET)],
        bindings=["cache"],
    )
    kept = fx.job_body(
        job,
        apps_dir,
        env=[plain("MODE", "job"), {"name": "JOB_TOKEN", "keep": True}],
        bindings=["cache"],
    )
    for body in (resent, kept):
        assert api.put(f"{JOBS}/{job}", json=body).json()["version"] == 1
    changed = fx.job_body(
        job,
        apps_dir,
        env=[plain("MODE", "job"), secret("JOB_TOKEN", "new-one")],
        bindings=["cache"],
    )
    assert api.put(f"{JOBS}/{job}", json=changed).json()["version"] == 2
    kept_again = api.put(f"{JOBS}/{job}", json={**kept, "args": ["x"]}).json()
    assert kept_again["version"] == 3
    run = start(api, job)
    assert submitted(fake, run["id"]).env["JOB_TOKEN"] == "new-one"


def log_of(settings: Settings, run_id: str) -> Path:
    return settings.data_dir / "logs" / f"{run_id}.log"


def test_logs_mask_secrets_in_a_tail_a_snapshot_and_a_follow(
    api: httpx.Client, fake: FakeBackend, job: str, settings: Settings
) -> None:
    run = start(api, job, env=[secret("RUN_TOKEN", RUN_SECRET)])
    submitted(fake, run["id"])
    path = log_of(settings, run["id"])
    with path.open("a") as log:
        log.write(f"binding {BINDING_SECRET} job {JOB_SECRET}\nrun {RUN_SECRET}\n")
        log.write("url https://user:hunter2@db.example/x\n")
    full = api.get(f"{RUNS}/{run['id']}/logs").text
    assert "binding *** job ***\nrun ***\nurl https://user:***@db.example/x\n" in full
    assert api.get(f"{RUNS}/{run['id']}/logs", params={"tail": 2}).text == (
        "run ***\nurl https://user:***@db.example/x\n"
    )

    def write_split() -> None:  # a secret cut in two by the reads of a follower
        time.sleep(0.5)
        with path.open("a") as log:
            log.write("late " + JOB_SECRET[:5])
        time.sleep(0.8)
        with path.open("a") as log:
            log.write(JOB_SECRET[5:] + " end\n")
        fake.finish(run["id"], 0)

    writer = threading.Thread(target=write_split)
    writer.start()
    with api.stream("GET", f"{RUNS}/{run['id']}/logs", params={"follow": "true"}) as response:
        followed = "".join(response.iter_text())
    writer.join()
    assert "late *** end\n" in followed
    for value in (BINDING_SECRET, JOB_SECRET, RUN_SECRET, JOB_SECRET[:5], "hunter2"):
        assert value not in followed


def test_a_failure_message_with_a_secret_is_masked_in_the_reason_and_events(
    api: httpx.Client, fake: FakeBackend, job: str
) -> None:
    fake.fail_next_submit(f"refused: token {JOB_SECRET} is bad")
    run = start(api, job)
    failed = fx.wait_for(
        lambda: (r := api.get(f"{RUNS}/{run['id']}").json())["state"] == "failed" and r,
        what="the run to fail",
    )
    assert failed["reason"] == "could not start: refused: token *** is bad"
    assert "could not start: refused: token *** is bad" in reasons(api, run["id"])
    assert JOB_SECRET not in api.get(f"{RUNS}/{run['id']}/logs").text


def test_a_binding_deleted_with_force_fails_the_next_run_naming_it(
    api: httpx.Client, job: str
) -> None:
    assert api.delete("/api/v1/bindings/cache", params={"force": "true"}).status_code == 204
    run = start(api, job)
    failed = fx.wait_for(
        lambda: (r := api.get(f"{RUNS}/{run['id']}").json())["state"] == "failed" and r,
        what="the run to fail",
    )
    assert "binding 'cache', which the job lists, no longer exists" in failed["reason"]


def git(repo: str, **fields: Any) -> dict[str, Any]:
    return {"source": {"type": "git", "repo": repo, "path": "job.py", **fields}}


#: The issue's "Bad input": (case, body fields, field in 'errors', words in the detail).
BAD = [
    ("git repo starting with -", git("-uhttps://x/y.git"), "source.repo",
     "must not start with '-'"),
    ("git ref starting with -", git("https://h/r.git", ref="--upload-pack=touch"), "source.ref",
     "must not start with '-'"),
    ("git ref with shell characters", git("https://h/r.git", ref="main;touch${IFS}x"),
     "source.ref", "not a plain branch"),
    ("ext:: transport", git("ext::sh -c touch% /tmp/x"), "source.repo", ""),
    ("ext:: without spaces", git("ext::sh"), "source.repo", "ext::"),
    ("url with another scheme", {"source": {"type": "url", "url": "ftp://h/app.py"}},
     "source.url", "http"),
    ("file url", {"files": [{"type": "url", "url": "file:///etc/passwd"}]}, "files.0.url",
     "http"),
    ("path with ..", {"source": {"type": "path", "path": "/srv/apps/../x.py"}}, "source.path",
     ".."),
    ("git path with ..", git("https://h/r.git", path="../x.py"), "source.path", ".."),
    ("bad env name", {"env": [{"name": "BAD-NAME", "value": "1"}]}, "env.0.name",
     "not a valid variable name"),
    ("env name twice", {"env": [plain("A", "1"), plain("A", "2")]}, "env", "more than once"),
    ("keep on create", {"env": [{"name": "A", "keep": True}]}, "env.0.keep", "no stored secret"),
    ("missing binding", {"bindings": ["nope"]}, "bindings.0", "binding 'nope' does not exist"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "fields", "field", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_422_and_stores_nothing(
    api: httpx.Client, apps_dir: Path, case: str, fields: Any, field: str, words: str
) -> None:
    sent = {**fx.job_body("hello", apps_dir), **fields}
    for response in (api.post(JOBS, json=sent), api.put(f"{JOBS}/hello", json=sent)):
        problem = fx.assert_problem(response, 422)
        assert words in problem["detail"]
        # (pydantic's paths into files/py_files/jars keep the source type: files.0.url.url)
        assert any(e["field"].startswith(field) for e in problem["errors"]), problem
    assert api.get(JOBS).json() == []
    assert api.get(RUNS).json()["items"] == []
