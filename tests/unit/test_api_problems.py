"""Errors become problem+json: statuses by error family, field paths, no leaked internals."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI

from sparkjobs import errors, jobs
from sparkjobs.api import problems


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.JobNotFound(), 404),
        (errors.RunNotFound(), 404),
        (errors.JobExists(), 409),
        (errors.ArtifactInUse(), 409),
        (errors.InvalidTransition(), 409),
        (errors.Invalid(), 422),
        (errors.RefusedConf(), 422),
        (errors.UploadTooLarge(), 413),
        (errors.Unauthorized(), 401),
        (errors.SubmitError(), 500),
    ],
)
def test_status_by_error_family(error: errors.SparkJobsError, status: int) -> None:
    assert problems.status_of(error) == status


@pytest.mark.parametrize(
    ("loc", "field"),
    [
        (("body", "name"), "name"),
        (("body", "source", "path", "path"), "source.path"),
        (("body", "source", "artifact", "id"), "source.id"),
        (("body", "source", "path"), "source.path"),
        (("body", "source"), "source"),
        (("body", "args", 1), "args.1"),
        (("body", "conf", "spark.x"), "conf.spark.x"),
        (("query", "limit"), "limit"),
        (("body",), "body"),
        ((), "body"),
    ],
)
def test_field_paths_drop_the_location_and_union_tags(
    loc: tuple[int | str, ...], field: str
) -> None:
    assert problems.field_path(loc) == field


def body_of(response: object) -> dict[str, object]:
    raw = getattr(response, "body", b"")
    return dict(json.loads(bytes(raw)))


def test_problem_from_an_error_carries_type_title_and_field() -> None:
    response = problems.from_error(errors.Invalid("bad path; use another", field="source.path"))
    assert response.status_code == 422
    assert response.media_type == "application/problem+json"
    assert body_of(response) == {
        "type": "urn:sparkjobs:problem:invalid",
        "title": "Invalid",
        "status": 422,
        "detail": "bad path; use another",
        "errors": [{"field": "source.path", "message": "bad path; use another"}],
    }


def test_problem_title_is_words_of_the_class() -> None:
    body = body_of(problems.from_error(errors.JobNotFound()))
    assert (body["title"], body["type"]) == ("Job not found", "urn:sparkjobs:problem:job-not-found")
    assert body["detail"] == errors.JobNotFound.__doc__
    assert "errors" not in body


def test_unauthorized_asks_for_a_bearer_token() -> None:
    response = problems.from_error(errors.Unauthorized())
    assert response.headers["www-authenticate"] == "Bearer"


def test_plain_problem_uses_the_http_phrase() -> None:
    body = body_of(problems.problem(503, "db down"))
    assert body == {"type": "about:blank", "title": "Service Unavailable", "status": 503,
                    "detail": "db down"}  # fmt: skip


def call(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return await client.request(method, path, **kwargs)

    return anyio.run(go)


def small_app() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("password=hunter2 at /srv/secret/path")

    @app.post("/things")
    def things(body: jobs.Resources) -> jobs.Resources:
        return body

    return app


def test_unexpected_errors_are_500_without_internals() -> None:
    response = call(small_app(), "GET", "/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "hunter2" not in response.text and "secret" not in response.text
    assert response.json()["title"] == "Internal Server Error"


def test_validation_errors_list_each_field() -> None:
    response = call(small_app(), "POST", "/things", json={"cores": 0, "memory": "lots", "x": 1})
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "urn:sparkjobs:problem:validation"
    assert [e["field"] for e in body["errors"]] == ["cores", "memory", "x"]
    assert "memory must look like 512m or 2g" in body["errors"][1]["message"]
    assert "cores" in body["detail"]


def test_unknown_paths_and_methods_are_problems() -> None:
    assert call(small_app(), "GET", "/nowhere").json()["status"] == 404
    response = call(small_app(), "DELETE", "/things")
    assert (response.status_code, response.json()["title"]) == (405, "Method Not Allowed")
