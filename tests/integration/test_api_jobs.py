"""/api/v1/jobs over real HTTP and a real store: define, list, version and delete jobs;
bad input gets a 4xx and changes nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration import test_api_fixtures as fx
from tests.integration.test_api_fixtures import *  # noqa: F403  (the fixtures)

JOBS = "/api/v1/jobs"


def body(apps: Path, name: str = "hello", **fields: Any) -> dict[str, Any]:
    source = fields.pop("source", {"type": "path", "path": str(apps / "app.py")})
    return {"name": name, "source": source, **fields}


def test_create_returns_the_job_and_stores_it(api: httpx.Client, apps_dir: Path) -> None:
    created = api.post(
        JOBS, json=body(apps_dir, args=["in.txt", "$(touch x)"], labels={"team": "a"})
    )
    assert created.status_code == 201, created.text
    job = created.json()
    assert set(job) == {"name", "version", "created_at", "updated_at", "spec", "schedule_info"}
    assert job["schedule_info"] is None  # no schedule (see test_api_schedules.py)
    assert (job["name"], job["version"]) == ("hello", 1)
    assert job["spec"]["args"] == ["in.txt", "$(touch x)"]
    assert job["spec"]["source"] == {"type": "path", "path": str(apps_dir / "app.py")}
    assert api.get(f"{JOBS}/hello").json() == job


def test_list_filters_by_name_and_labels(api: httpx.Client, apps_dir: Path) -> None:
    for name, team in [("alpha", "a"), ("alpine", "b"), ("beta", "a")]:
        assert api.post(JOBS, json=body(apps_dir, name, labels={"team": team})).status_code == 201
    names = lambda **params: [j["name"] for j in api.get(JOBS, params=params).json()]  # noqa: E731
    assert names() == ["alpha", "alpine", "beta"]
    assert names(name="alp") == ["alpha", "alpine"]
    assert names(label="team=a") == ["alpha", "beta"]
    assert names(name="alp", label="team=a") == ["alpha"]
    fx.assert_problem(api.get(JOBS, params={"label": "team"}), 422)


def test_put_creates_then_versions_only_on_change(api: httpx.Client, apps_dir: Path) -> None:
    first = api.put(f"{JOBS}/hello", json=body(apps_dir, args=["1"]))
    assert (first.status_code, first.json()["version"]) == (201, 1)
    same = api.put(f"{JOBS}/hello", json=body(apps_dir, args=["1"]))
    assert (same.status_code, same.json()["version"]) == (200, 1)
    changed = api.put(f"{JOBS}/hello", json=body(apps_dir, args=["2"]))
    assert (changed.status_code, changed.json()["version"]) == (200, 2)
    v1 = api.get(f"{JOBS}/hello/versions/1").json()
    assert (v1["version"], v1["spec"]["args"]) == (1, ["1"])
    assert api.get(f"{JOBS}/hello").json()["spec"]["args"] == ["2"]
    fx.assert_problem(api.get(f"{JOBS}/hello/versions/3"), 404)


def test_put_name_must_match_the_url(api: httpx.Client, apps_dir: Path) -> None:
    problem = fx.assert_problem(api.put(f"{JOBS}/other", json=body(apps_dir)), 422)
    assert problem["errors"][0]["field"] == "name"
    assert api.get(JOBS).json() == []


def test_duplicate_post_is_409_and_keeps_the_first(api: httpx.Client, apps_dir: Path) -> None:
    assert api.post(JOBS, json=body(apps_dir, args=["1"])).status_code == 201
    problem = fx.assert_problem(api.post(JOBS, json=body(apps_dir, args=["2"])), 409)
    assert "exists" in problem["detail"]
    job = api.get(f"{JOBS}/hello").json()
    assert (job["version"], job["spec"]["args"]) == (1, ["1"])


def test_delete_removes_the_job(api: httpx.Client, apps_dir: Path) -> None:
    api.post(JOBS, json=body(apps_dir))
    deleted = api.delete(f"{JOBS}/hello")
    assert (deleted.status_code, deleted.content) == (204, b"")
    fx.assert_problem(api.get(f"{JOBS}/hello"), 404)
    problem = fx.assert_problem(api.delete(f"{JOBS}/hello"), 404)
    assert "sparkjobs jobs list" in problem["detail"]


def _outside(tmp_path: Path) -> str:
    target = tmp_path / "elsewhere.py"
    target.write_text("print('not allowed')\n")
    return str(target)


def _symlink_out(tmp_path: Path) -> str:
    link = tmp_path / "apps" / "link.py"
    os.symlink(_outside(tmp_path), link)
    return str(link)


def _text_file(tmp_path: Path) -> str:
    (tmp_path / "apps" / "notes.txt").write_text("hi\n")
    return str(tmp_path / "apps" / "notes.txt")


def path(value: str) -> dict[str, Any]:
    return {"source": {"type": "path", "path": value}}


def unknown_artifact(_: Path) -> dict[str, Any]:
    return {"source": {"type": "artifact", "id": "0123456789abcdef"}}


#: (case, tmp_path -> body fields, field in 'errors' or None, words in the detail); all 422.
BAD = [
    ("invalid name", lambda t: {"name": "Bad_Name"}, "name", "DNS-1123"),
    ("missing source", lambda t: {"source": None}, "source", ""),
    ("relative path", lambda t: path("app.py"), "source.path", "absolute"),
    ("path with ..", lambda t: path(f"{t}/apps/../x.py"), "source.path", ".."),
    ("path outside", lambda t: path(_outside(t)), "source.path", "allowed"),
    ("symlink outside", lambda t: path(_symlink_out(t)), "source.path", "allowed"),
    ("missing file", lambda t: path(f"{t}/apps/nope.py"), "source.path", "does not exist"),
    ("unknown kind", lambda t: path(_text_file(t)), "kind", "kind"),
    ("unknown artifact", unknown_artifact, "source.id", "upload"),
    ("non-string args", lambda t: {"args": ["a", 1]}, "args.1", "string"),
    ("non-string conf", lambda t: {"conf": {"spark.x": 1}}, "conf.spark.x", "string"),
    ("spark.master", lambda t: {"conf": {"spark.master": "yarn"}}, None, "spark.master"),
    ("extraJavaOptions", lambda t: {"conf": {"spark.driver.extraJavaOptions": "-Dx=1"}}, None,
     "SPARKJOBS_ALLOWED_CONF_KEYS"),
    ("unknown field", lambda t: {"colour": "red"}, "colour", "Extra inputs"),
    ("unknown source type", lambda t: {"source": {"type": "ftp", "path": "/x"}}, "source", ""),
    ("local git repo", lambda t: {"source": {"type": "git", "repo": f"file://{t}", "path": "a.py"}},
     "source.repo", "on the server itself"),
    ("file input outside", lambda t: {"files": [path(_outside(t))["source"]]}, "files.0.path",
     "allowed"),
    ("unknown jar input", lambda t: {"jars": [unknown_artifact(t)["source"]]}, "jars.0.id",
     "upload"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "fields", "field", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_4xx_and_stores_nothing(
    api: httpx.Client,
    apps_dir: Path,
    tmp_path: Path,
    case: str,
    fields: Any,
    field: str | None,
    words: str,
) -> None:
    sent = {**body(apps_dir), **fields(tmp_path)}
    sent = {k: v for k, v in sent.items() if v is not None}
    for response in (api.post(JOBS, json=sent), api.put(f"{JOBS}/{sent['name']}", json=sent)):
        problem = fx.assert_problem(response, 422)
        assert words in problem["detail"]
        if field is not None:
            assert field in [e["field"] for e in problem["errors"]], problem
    assert api.get(JOBS).json() == []


def test_bad_update_keeps_the_old_version(api: httpx.Client, apps_dir: Path) -> None:
    api.put(f"{JOBS}/hello", json=body(apps_dir))
    bad = body(apps_dir, conf={"spark.master": "local[2]"})
    fx.assert_problem(api.put(f"{JOBS}/hello", json=bad), 422)
    assert api.get(f"{JOBS}/hello").json()["version"] == 1


def test_allowed_conf_key_passes(make_api: fx.ApiFactory, apps_dir: Path) -> None:
    api = make_api(allowed_conf_keys=["spark.driver.extraJavaOptions"])
    sent = body(apps_dir, conf={"spark.driver.extraJavaOptions": "-Dx=1"})
    assert api.post(JOBS, json=sent).status_code == 201


def test_path_sources_disabled_without_allowed_dirs(
    make_api: fx.ApiFactory, apps_dir: Path
) -> None:
    api = make_api(allowed_source_dirs=[])
    problem = fx.assert_problem(api.post(JOBS, json=body(apps_dir)), 422)
    assert "SPARKJOBS_ALLOWED_SOURCE_DIRS" in problem["detail"]


def test_invalid_json_is_a_problem(api: httpx.Client) -> None:
    response = api.post(JOBS, content=b"{not json", headers={"content-type": "application/json"})
    fx.assert_problem(response, 422)


def test_unknown_route_is_a_problem(api: httpx.Client) -> None:
    fx.assert_problem(api.get("/api/v1/nothing-here"), 404)
