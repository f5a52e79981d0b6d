"""Every /api call needs the admin token; health and docs do not."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest

from sparkjobs import store
from sparkjobs.api import auth
from sparkjobs.api.app import create_app
from sparkjobs.config import Settings
from sparkjobs.store import repo
from tests.integration import test_api_fixtures as fx
from tests.integration.test_api_fixtures import *  # noqa: F403  (the fixtures)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json", "/docs"])
def test_health_and_docs_need_no_token(api: httpx.Client, path: str) -> None:
    response = api.get(path, headers={"Authorization": ""})
    assert response.status_code == 200


def test_health_bodies(api: httpx.Client) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/readyz").json() == {"status": "ready"}


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer wrong-token", f"Basic {fx.TOKEN}", f"Bearer {fx.TOKEN}x", fx.TOKEN],
)
def test_api_refuses_missing_or_wrong_token(api: httpx.Client, authorization: str) -> None:
    calls = [("GET", "/api/v1/jobs"), ("POST", "/api/v1/jobs"), ("GET", "/api/v1/runs/abc"),
             ("DELETE", "/api/v1/artifacts/abc")]  # fmt: skip
    for method, path in calls:
        response = api.request(method, path, headers={"Authorization": authorization}, json={})
        body = fx.assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert fx.TOKEN not in response.text
        assert "token" in body["detail"]


def test_right_token_is_accepted(api: httpx.Client) -> None:
    assert api.get("/api/v1/jobs").status_code == 200


def test_every_api_route_is_guarded(api: httpx.Client, settings: Settings) -> None:
    """No /api operation answers without a token (the operations are read from the OpenAPI doc)."""
    paths = create_app(settings).openapi()["paths"]
    operations = [(m.upper(), p) for p, ops in paths.items() if p.startswith("/api/") for m in ops]
    assert len(operations) >= 15
    for method, template in operations:
        path = re.sub(r"\{version\}", "1", re.sub(r"\{[a-z_]+\}", "x", template))
        response = api.request(method, path, headers={"Authorization": ""})
        assert response.status_code == 401, (method, path)


def test_generated_token_is_stored_hashed_and_returned_once(
    settings: Settings, db_url: str
) -> None:
    unset = settings.model_copy(update={"admin_token": None, "database_url": db_url})
    db = store.Database(db_url)
    db.migrate()
    try:
        token = auth.ensure_admin_token(unset, db)
        assert token is not None and len(token) >= 40
        assert auth.ensure_admin_token(unset, db) is None  # shown once, never again
        with db.session() as s:
            stored = repo.get_value(s, auth.TOKEN_HASH_KEY)
        assert stored == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (stored or "")
    finally:
        db.dispose()


def test_generated_token_works_and_a_configured_one_replaces_it(
    settings: Settings, db_url: str, make_api: fx.ApiFactory
) -> None:
    db = store.Database(db_url)
    db.migrate()
    try:
        unset = settings.model_copy(update={"admin_token": None, "database_url": db_url})
        generated = auth.ensure_admin_token(unset, db)
    finally:
        db.dispose()
    client = make_api(admin_token=None)
    ok = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {generated}"})
    assert ok.status_code == 200
    assert client.get("/api/v1/jobs").status_code == 401  # the fixture's token is not it

    replaced = make_api()  # SPARKJOBS_ADMIN_TOKEN set: its hash replaces the generated one
    assert replaced.get("/api/v1/jobs").status_code == 200
    old = replaced.get("/api/v1/jobs", headers={"Authorization": f"Bearer {generated}"})
    fx.assert_problem(old, 401)
