"""/api/v1/artifacts: upload (size limit, sanitised names), list, download, and delete
(refused while a job uses the artifact)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from sparkjobs.config import Settings
from tests.integration import test_api_fixtures as fx
from tests.integration.test_api_fixtures import *  # noqa: F403  (the fixtures)

ARTIFACTS = "/api/v1/artifacts"
APP = b"import sys\nprint('args', sys.argv[1:])\n"


def files_under(settings: Settings) -> list[Path]:
    root = settings.data_dir / "artifacts"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(api: httpx.Client, name: str = "app.py", content: bytes = APP) -> httpx.Response:
    return api.post(ARTIFACTS, files={"file": (name, content, "text/x-python")})


def test_upload_stores_by_content(api: httpx.Client, settings: Settings) -> None:
    response = upload(api)
    assert response.status_code == 201, response.text
    artifact = response.json()
    assert set(artifact) == {"id", "filename", "sha256", "size", "created_at"}
    sha = hashlib.sha256(APP).hexdigest()
    assert (artifact["filename"], artifact["sha256"], artifact["size"]) == ("app.py", sha, len(APP))
    stored = settings.data_dir / "artifacts" / sha[:2] / sha / "app.py"
    assert files_under(settings) == [stored]
    assert stored.read_bytes() == APP
    assert api.get(f"{ARTIFACTS}/{artifact['id']}").json() == artifact
    assert api.get(ARTIFACTS).json() == [artifact]
    download = api.get(f"{ARTIFACTS}/{artifact['id']}/content")
    assert (download.status_code, download.content) == (200, APP)
    assert "app.py" in download.headers["content-disposition"]


def test_same_content_twice_is_two_artifacts_one_file(
    api: httpx.Client, settings: Settings
) -> None:
    first, second = upload(api).json(), upload(api).json()
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    assert len(files_under(settings)) == 1
    assert api.delete(f"{ARTIFACTS}/{first['id']}").status_code == 204
    assert len(files_under(settings)) == 1  # still the second's
    assert api.get(f"{ARTIFACTS}/{second['id']}/content").content == APP


def test_delete_is_refused_while_a_job_uses_it(api: httpx.Client, settings: Settings) -> None:
    artifact = upload(api).json()
    job = {"name": "uses-it", "source": {"type": "artifact", "id": artifact["id"]}}
    assert api.post("/api/v1/jobs", json=job).status_code == 201
    problem = fx.assert_problem(api.delete(f"{ARTIFACTS}/{artifact['id']}"), 409)
    assert "uses-it v1" in problem["detail"]
    assert len(files_under(settings)) == 1

    assert api.delete("/api/v1/jobs/uses-it").status_code == 204
    assert api.delete(f"{ARTIFACTS}/{artifact['id']}").status_code == 204
    assert files_under(settings) == []
    fx.assert_problem(api.get(f"{ARTIFACTS}/{artifact['id']}"), 404)
    fx.assert_problem(api.delete(f"{ARTIFACTS}/{artifact['id']}"), 404)


@pytest.mark.parametrize(
    "size", [fx.MAX_UPLOAD + 1, fx.MAX_UPLOAD * 3], ids=["just over", "over the framing allowance"]
)
def test_oversize_upload_is_413_and_keeps_nothing(
    api: httpx.Client, settings: Settings, size: int
) -> None:
    problem = fx.assert_problem(upload(api, content=b"x" * size), 413)
    assert "SPARKJOBS_MAX_UPLOAD_BYTES" in problem["detail"]
    assert files_under(settings) == []
    assert api.get(ARTIFACTS).json() == []


def test_upload_at_the_limit_is_accepted(api: httpx.Client) -> None:
    assert upload(api, content=b"x" * fx.MAX_UPLOAD).json()["size"] == fx.MAX_UPLOAD


@pytest.mark.parametrize(
    "name", ["../evil.py", "a/b.py", "..", ".", "-rf.py", "a\\b.py", "/etc/passwd"]
)
def test_bad_filenames_are_refused(api: httpx.Client, settings: Settings, name: str) -> None:
    problem = fx.assert_problem(upload(api, name=name), 422)
    assert problem["errors"][0]["field"] == "file"
    assert files_under(settings) == []
    assert api.get(ARTIFACTS).json() == []


def test_upload_needs_a_multipart_file_field(api: httpx.Client) -> None:
    fx.assert_problem(api.post(ARTIFACTS, json={"file": "x"}), 422)
    fx.assert_problem(api.post(ARTIFACTS, files={"other": ("a.py", APP)}), 422)
    fx.assert_problem(api.post(ARTIFACTS, data={"file": "not a file"}), 422)
    assert api.get(ARTIFACTS).json() == []
