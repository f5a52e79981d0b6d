"""Service bindings in the real store (SQLite and PostgreSQL) and through the real API:
secrets are sealed before they are stored and never come back; a binding in use is only
deleted with force; a job that lists a missing binding is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sparkjobs import envvars, errors, jobs
from sparkjobs.inputs.secrets import SecretBox
from sparkjobs.store import Database, repo
from sparkjobs.supervisor import specs
from tests.integration import test_api_fixtures as fx
from tests.integration.test_api_fixtures import *  # noqa: F403  (the fixtures)

BINDINGS = "/api/v1/bindings"
SECRET = "pw-Vq9Zx-7731"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def cache_binding(secret: str = SECRET, **fields: Any) -> dict[str, Any]:
    return {
        "name": "cache",
        "description": "the team's cache",
        "env": [
            {"name": "CACHE_HOST", "value": "cache.svc"},
            {"name": "CACHE_PASSWORD", "secret": secret},
        ],
        **fields,
    }


# -- the store ---------------------------------------------------------------------------------


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(b"x" * 43 + b"=")


def sealed(box: SecretBox, **fields: Any) -> envvars.Binding:
    binding = envvars.Binding.model_validate(cache_binding(**fields))
    return specs.prepare_binding(box, binding, previous=None)


def test_store_puts_gets_lists_and_deletes(db: Database, box: SecretBox) -> None:
    first = sealed(box)
    with db.session() as s:
        assert repo.put_binding(s, first, NOW) == (first, True)
        other = first.model_copy(update={"name": "another"})
        repo.put_binding(s, other, NOW)
    changed = first.model_copy(update={"description": "changed"})
    with db.session() as s:
        assert repo.put_binding(s, changed, NOW) == (changed, False)
        assert repo.get_binding(s, "cache") == changed
        assert [b.name for b in repo.list_bindings(s)] == ["another", "cache"]
        repo.delete_binding(s, "cache")
        with pytest.raises(errors.BindingNotFound, match="binding 'cache' not found"):
            repo.get_binding(s, "cache")
        with pytest.raises(errors.BindingNotFound):
            repo.delete_binding(s, "cache")


def test_store_refuses_an_unsealed_secret(db: Database) -> None:
    with db.session() as s, pytest.raises(ValueError, match="seal"):
        repo.put_binding(s, envvars.Binding.model_validate(cache_binding()), NOW)


def test_binding_users_are_jobs_whose_current_version_lists_it(
    db: Database, box: SecretBox
) -> None:
    def spec(name: str, bindings: list[str]) -> jobs.JobSpec:
        source = {"type": "url", "url": "https://example.com/app.py"}
        return jobs.JobSpec.model_validate({"name": name, "source": source, "bindings": bindings})

    with db.session() as s:
        repo.put_binding(s, sealed(box), NOW)
        repo.create_job(s, spec("b-job", ["cache"]), NOW)
        repo.create_job(s, spec("a-job", ["cache"]), NOW)
        repo.create_job(s, spec("moved-on", ["cache"]), NOW)
        repo.update_job(s, spec("moved-on", []), NOW)
        assert repo.binding_users(s, "cache") == ["a-job", "b-job"]


# -- the API -----------------------------------------------------------------------------------


def test_create_shows_secrets_as_set_and_409_on_a_taken_name(api: httpx.Client) -> None:
    created = api.post(BINDINGS, json=cache_binding())
    assert created.status_code == 201, created.text
    shown = created.json()
    assert shown["env"] == [
        {"name": "CACHE_HOST", "value": "cache.svc", "secret": None},
        {"name": "CACHE_PASSWORD", "value": None, "secret": "set"},
    ]
    assert (shown["service"], shown["secret_ref"], shown["config_map_ref"]) == (None, None, None)
    assert api.get(f"{BINDINGS}/cache").json() == shown
    assert api.get(BINDINGS).json() == [shown]
    problem = fx.assert_problem(api.post(BINDINGS, json=cache_binding()), 409)
    assert "exists already" in problem["detail"]
    for path in (BINDINGS, f"{BINDINGS}/cache"):
        assert SECRET not in api.get(path).text


def test_put_creates_then_replaces_and_keep_keeps_the_stored_secret(
    api: httpx.Client, settings: Any, db_url: str
) -> None:
    assert api.put(f"{BINDINGS}/cache", json=cache_binding()).status_code == 201
    kept = cache_binding(description="kept")
    kept["env"][1] = {"name": "CACHE_PASSWORD", "keep": True}
    assert api.put(f"{BINDINGS}/cache", json=kept).status_code == 200
    box = SecretBox.from_settings(settings)
    db = Database(db_url)
    try:
        with db.session() as s:
            stored = repo.get_binding(s, "cache")
    finally:
        db.dispose()
    assert stored.description == "kept"
    assert envvars.resolve(stored.env, box.decrypt)[0]["CACHE_PASSWORD"] == SECRET
    unknown = cache_binding()
    unknown["env"][0] = {"name": "CACHE_HOST", "keep": True}
    problem = fx.assert_problem(api.put(f"{BINDINGS}/cache", json=unknown), 422)
    assert problem["errors"][0]["field"] == "env.0.keep"
    mismatch = fx.assert_problem(api.put(f"{BINDINGS}/other", json=cache_binding()), 422)
    assert mismatch["errors"][0]["field"] == "name"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"env": [{"name": "1BAD", "value": "x"}]}, "env.0.name"),
        ({"env": [{"name": "A", "value": "x", "secret": "y"}]}, "env.0"),
        ({"name": "Not_A_Label"}, "name"),
        ({"service": {"name": "db", "port": 0}}, "service.port"),
    ],
)
def test_bad_bindings_are_422_and_store_nothing(
    api: httpx.Client, body: dict[str, Any], field: str
) -> None:
    problem = fx.assert_problem(api.post(BINDINGS, json={**cache_binding(), **body}), 422)
    assert field in [e["field"] for e in problem["errors"]], problem
    assert api.get(BINDINGS).json() == []


def test_delete_in_use_needs_force(api: httpx.Client, apps_dir: Path) -> None:
    api.post(BINDINGS, json=cache_binding())
    for name in ("beta", "alpha"):
        body = fx.job_body(name, apps_dir, bindings=["cache"])
        assert api.post("/api/v1/jobs", json=body).status_code == 201
    problem = fx.assert_problem(api.delete(f"{BINDINGS}/cache"), 409)
    assert "in use by jobs alpha, beta; pass ?force=true" in problem["detail"]
    assert api.get(f"{BINDINGS}/cache").status_code == 200
    forced = api.delete(f"{BINDINGS}/cache", params={"force": "true"})
    assert (forced.status_code, forced.content) == (204, b"")
    fx.assert_problem(api.get(f"{BINDINGS}/cache"), 404)
    problem = fx.assert_problem(api.delete(f"{BINDINGS}/cache"), 404)
    assert "sparkjobs bindings list" in problem["detail"]


def test_a_job_listing_a_missing_binding_is_422_naming_it(
    api: httpx.Client, apps_dir: Path
) -> None:
    api.post(BINDINGS, json=cache_binding())
    body = fx.job_body("hello", apps_dir, bindings=["cache", "queue"])
    for response in (api.post("/api/v1/jobs", json=body), api.put("/api/v1/jobs/hello", json=body)):
        problem = fx.assert_problem(response, 422)
        assert "binding 'queue' does not exist" in problem["detail"]
        assert problem["errors"] == [{"field": "bindings.1", "message": problem["detail"]}]
    assert api.get("/api/v1/jobs").json() == []


def test_the_sqlite_file_never_holds_a_secret(
    api: httpx.Client, apps_dir: Path, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the file check is SQLite's; PostgreSQL gets the same sealed rows")
    api.post(BINDINGS, json=cache_binding())
    env = [{"name": "JOB_TOKEN", "secret": SECRET + "-job"}]
    body = fx.job_body("hello", apps_dir, env=env, bindings=["cache"])
    assert api.post("/api/v1/jobs", json=body).status_code == 201
    override = [{"name": "RUN_TOKEN", "secret": SECRET + "-run"}]
    assert api.post("/api/v1/jobs/hello/runs", json={"env": override}).status_code == 201
    path = Path(db_url.removeprefix("sqlite:///"))
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert path in files
    # The database and its WAL, where fresh writes sit first.
    data = b"".join(file.read_bytes() for file in files)
    assert b"cache.svc" in data  # a plain value is there: we read where the rows are
    assert SECRET.encode() not in data
