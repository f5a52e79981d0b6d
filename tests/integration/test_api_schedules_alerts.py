"""Alerts through the API: a job's `notify` round-trips, bad targets are refused naming the
field, and a failed run's deliveries (to a real webhook on 127.0.0.1, and an email the
server cannot send) show in the run's events. Real HTTP, real store on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sparkjobs.backends.fake import FakeBackend
from tests.integration import test_api_fixtures as fx
from tests.integration.test_api_fixtures import *  # noqa: F403  (the fixtures)
from tests.support import WebhookReceiver

JOBS = "/api/v1/jobs"
PATH_TOKEN = "hooks/PATH-TOKEN-never-shown"


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(PATH_TOKEN) as receiver:
        yield receiver


def test_notify_round_trips(api: httpx.Client, apps_dir: Path) -> None:
    notify = {
        "on_failure": [{"webhook": "https://hooks.example.com/x"}, {"email": "ops@example.com"}],
        "on_start": [{"email": "dev@example.com"}],
    }
    body = fx.job_body("alerted", apps_dir, notify=notify)
    assert api.put(f"{JOBS}/alerted", json=body).status_code == 201
    shown = api.get(f"{JOBS}/alerted").json()["spec"]["notify"]
    assert shown == {**notify, "on_success": [], "last_attempt_only": True}
    again = api.put(f"{JOBS}/alerted", json=body).json()  # unchanged: no new version
    assert again["version"] == 1


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ({"webhook": "ftp://hooks.example.com/x"}, "notify.on_failure.0"),
        ({"email": "not an address"}, "notify.on_failure.0"),
        ({"pager": "555-1234"}, "notify.on_failure.0"),
    ],
)
def test_bad_target_is_422_naming_the_field(
    api: httpx.Client, apps_dir: Path, target: dict[str, str], field: str
) -> None:
    body = fx.job_body("alerted", apps_dir, notify={"on_failure": [target]})
    problem = fx.assert_problem(api.put(f"{JOBS}/alerted", json=body), 422)
    assert any(e["field"].startswith(field) for e in problem["errors"]), problem
    fx.assert_problem(api.get(f"{JOBS}/alerted"), 404)


def test_failed_run_alerts_show_in_its_events(
    api: httpx.Client, apps_dir: Path, fake: FakeBackend, hook: WebhookReceiver
) -> None:
    notify = {"on_failure": [{"webhook": hook.url}, {"email": "ops@example.com"}]}
    body = fx.job_body("alerted", apps_dir, notify=notify)
    assert api.put(f"{JOBS}/alerted", json=body).status_code == 201
    run = api.post(f"{JOBS}/alerted/runs").json()
    fx.wait_for(lambda: any(p.run_id == run["id"] for p in fake.submitted), what="the submit")
    fake.finish(run["id"], 3)

    def alert_notes() -> list[str] | None:
        events = api.get(f"/api/v1/runs/{run['id']}/events").json()
        notes = [e["reason"] for e in events if e["reason"].startswith("alert")]
        return notes if len(notes) == 2 else None

    notes = sorted(fx.wait_for(alert_notes, what="two alert notes on the run"))
    host = hook.url.split("/")[2]
    assert notes[0].startswith("alert sent to webhook http://" + host)
    assert notes[1].startswith("alert to email ops@example.com failed")
    assert "SPARKJOBS_SMTP_HOST" in notes[1]  # no SMTP server set: says what to do
    assert PATH_TOKEN not in " ".join(notes)  # a webhook's path may hold a token
    [sent] = hook.bodies
    assert (sent["job"], sent["run_id"], sent["state"], sent["event"]) == (
        "alerted",
        run["id"],
        "failed",
        "failure",
    )
    assert sent["exit_code"] == 3
