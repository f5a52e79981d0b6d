"""/metrics: Prometheus text of runs by state and jobs, behind the token like every API call."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.integration import test_api_fixtures as fx
from tests.integration.test_api_fixtures import *  # noqa: F403  (the fixtures)


def test_metrics_count_runs_by_state_and_jobs(api: httpx.Client, apps_dir: Path) -> None:
    assert api.post("/api/v1/jobs", json=fx.job_body("one", apps_dir)).status_code == 201
    assert api.post("/api/v1/jobs", json=fx.job_body("two", apps_dir)).status_code == 201
    run = api.post("/api/v1/jobs/one/runs").json()
    api.post(f"/api/v1/runs/{run['id']}/stop")
    fx.wait_for(lambda: api.get(f"/api/v1/runs/{run['id']}").json()["state"] == "stopped",
                what="the run to stop")  # fmt: skip
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert 'sparkjobs_runs{state="stopped"} 1.0' in lines
    assert 'sparkjobs_runs{state="running"} 0.0' in lines
    assert "sparkjobs_jobs 2.0" in lines


def test_metrics_need_the_token(api: httpx.Client) -> None:
    response = httpx.get(api.base_url.join("/metrics"), timeout=10)
    fx.assert_problem(response, 401)
