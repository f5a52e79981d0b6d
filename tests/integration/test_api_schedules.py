"""Schedules through the API over real HTTP, a real store (SQLite and PostgreSQL) and the
server's own scheduler thread: next runs in the job's zone and UTC, history, suspend and
resume, "run now" as manual, and bad schedules refused naming the field.

The expected slots come from zoneinfo here, not from sparkjobs.schedules.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration import test_api_fixtures as fx
from tests.integration.test_api_fixtures import *  # noqa: F403  (the fixtures)

JOBS = "/api/v1/jobs"
BERLIN = ZoneInfo("Europe/Berlin")
NIGHTLY = {"cron": "0 2 * * *", "timezone": "Europe/Berlin"}


def nightly_slots(after: datetime, n: int = 5) -> list[datetime]:
    """The next n 02:00 Berlin slots after `after`, in UTC.

    fold=0 puts a 02:00 the spring change skips at the change (01:00 UTC, 03:00 CEST)
    and a repeated one at its first occurrence: the rule the server promises.
    """
    day, found = after.astimezone(BERLIN).date(), list[datetime]()
    while len(found) < n:
        slot = datetime.combine(day, time(2), BERLIN).astimezone(UTC)
        if slot > after:
            found.append(slot)
        day += timedelta(days=1)
    return found


def put_job(api: httpx.Client, apps: Path, name: str = "nightly", **fields: Any) -> dict[str, Any]:
    response = api.put(f"{JOBS}/{name}", json=fx.job_body(name, apps, **fields))
    assert response.status_code in (200, 201), response.text
    job: dict[str, Any] = response.json()
    return job


def schedule(api: httpx.Client, name: str = "nightly", **params: Any) -> dict[str, Any]:
    response = api.get(f"{JOBS}/{name}/schedule", params=params)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def post(api: httpx.Client, path: str) -> dict[str, Any]:
    response = api.post(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_nightly_runs(next_runs: list[dict[str, str]], before: datetime, n: int = 5) -> None:
    """The next n 02:00 Berlin slots, each given in UTC and in Berlin time, as computed here."""
    after = datetime.now(UTC)
    got = [datetime.fromisoformat(r["at"]) for r in next_runs]
    assert got in (nightly_slots(before, n), nightly_slots(after, n))
    for slot, run in zip(got, next_runs, strict=True):
        assert slot.utcoffset() == timedelta(0)
        local = datetime.fromisoformat(run["local"])
        assert local == slot  # the same instant ...
        assert local.utcoffset() == slot.astimezone(BERLIN).utcoffset()  # ... in Berlin's offset
        assert local.strftime("%H:%M") in ("02:00", "03:00")  # 03:00 only on the spring change


def test_job_shows_its_schedule_and_next_runs(api: httpx.Client, apps_dir: Path) -> None:
    before = datetime.now(UTC)
    created = put_job(api, apps_dir, schedule=NIGHTLY)
    put_job(api, apps_dir, "plain")
    shown = api.get(f"{JOBS}/nightly").json()
    info = shown["schedule_info"]
    assert (info["description"], info["suspended"]) == ("At 02:00, Europe/Berlin", False)
    assert_nightly_runs(info["next_runs"], before)
    assert created["schedule_info"]["description"] == info["description"]
    assert shown["spec"]["schedule"] == {
        **NIGHTLY,
        "concurrency_policy": "allow",
        "missed_runs": "run_once",
        "max_catch_up": 10,
        "starting_deadline_seconds": None,
        "suspended": False,
    }
    listed = {j["name"]: j["schedule_info"] for j in api.get(JOBS).json()}
    assert listed["plain"] is None and api.get(f"{JOBS}/plain").json()["schedule_info"] is None
    assert listed["nightly"]["description"] == info["description"]
    assert_nightly_runs(listed["nightly"]["next_runs"], before, n=1)  # a list: the next one


@pytest.mark.parametrize(
    ("schedule_fields", "field", "words"),
    [
        ({"cron": "0 2 * *"}, "schedule.cron", "5 fields"),
        ({"cron": "61 * * * *"}, "schedule.cron", "minute 61"),
        ({"cron": "0 2 * * *", "timezone": "Mars/Olympus"}, "schedule.timezone", "Mars/Olympus"),
        ({"cron": "0 2 * * *", "max_catch_up": -1}, "schedule.max_catch_up", "greater than"),
        ({"cron": "0 2 * * *", "missed_runs": "all"}, "schedule.missed_runs", "catch_up"),
    ],
)
def test_bad_schedule_is_422_naming_the_field(
    api: httpx.Client, apps_dir: Path, schedule_fields: dict[str, Any], field: str, words: str
) -> None:
    body = fx.job_body("nightly", apps_dir, schedule=schedule_fields)
    for response in (api.post(JOBS, json=body), api.put(f"{JOBS}/nightly", json=body)):
        problem = fx.assert_problem(response, 422)
        found = [e for e in problem["errors"] if e["field"] == field]
        assert found and words in found[0]["message"], problem
        assert field in problem["detail"]
    fx.assert_problem(api.get(f"{JOBS}/nightly"), 404)


def test_suspend_and_resume(api: httpx.Client, apps_dir: Path) -> None:
    before = datetime.now(UTC)
    put_job(api, apps_dir, schedule=NIGHTLY)
    suspended = post(api, f"{JOBS}/nightly/schedule/suspend")
    assert (suspended["suspended"], suspended["next_runs"]) == (True, [])
    assert [h["kind"] for h in suspended["history"]] == ["suspended"]
    info = api.get(f"{JOBS}/nightly").json()["schedule_info"]
    assert (info["suspended"], info["next_runs"]) == (True, [])
    again = post(api, f"{JOBS}/nightly/schedule/suspend")  # idempotent: nothing new recorded
    assert [h["kind"] for h in again["history"]] == ["suspended"]
    resumed = post(api, f"{JOBS}/nightly/schedule/resume")
    assert resumed["suspended"] is False
    assert_nightly_runs(resumed["next_runs"], before)
    assert [h["kind"] for h in resumed["history"]] == ["resumed", "suspended"]  # newest first
    assert [h["kind"] for h in schedule(api, limit=1)["history"]] == ["resumed"]
    assert api.get(f"{JOBS}/nightly").json()["schedule_info"]["suspended"] is False


def test_suspend_and_resume_refusals(api: httpx.Client, apps_dir: Path) -> None:
    put_job(api, apps_dir, "plain")
    for action in ("suspend", "resume"):
        problem = fx.assert_problem(api.post(f"{JOBS}/plain/schedule/{action}"), 422)
        assert problem["errors"][0]["field"] == "schedule" and "no schedule" in problem["detail"]
        fx.assert_problem(api.post(f"{JOBS}/nope/schedule/{action}"), 404)
    fx.assert_problem(api.get(f"{JOBS}/nope/schedule"), 404)
    assert schedule(api, "plain") == {
        "job": "plain",
        "schedule": None,
        "description": None,
        "suspended": False,
        "next_runs": [],
        "decided_through": None,
        "history": [],
    }
    put_job(api, apps_dir, schedule={**NIGHTLY, "suspended": True})
    problem = fx.assert_problem(api.post(f"{JOBS}/nightly/schedule/resume"), 409)
    assert "schedule.suspended" in problem["detail"] and "jobs apply" in problem["detail"]
    view = schedule(api)
    assert (view["suspended"], view["next_runs"], view["history"]) == (True, [], [])
    fx.assert_problem(api.get(f"{JOBS}/nightly/schedule", params={"limit": 0}), 422)


def test_run_now_shows_as_manual(api: httpx.Client, apps_dir: Path) -> None:
    put_job(api, apps_dir, schedule=NIGHTLY)
    put_job(api, apps_dir, "plain")
    run = api.post(f"{JOBS}/nightly/runs").json()
    assert run["trigger"] == "api"
    manual = [h for h in schedule(api)["history"] if h["kind"] == "manual"]
    assert [(h["run_id"], h["count"]) for h in manual] == [(run["id"], None)]
    assert "outside the schedule" in manual[0]["reason"]
    assert api.post(f"{JOBS}/plain/runs").status_code == 201  # no schedule: no history
    assert schedule(api, "plain")["history"] == []


def test_fired_slots_show_newest_first(make_api: fx.ApiFactory, apps_dir: Path) -> None:
    """Every second: the server's scheduler fires a few slots while we wait (no fake clock).

    The runs are checked before the suspend: suspending takes back runs stored
    ahead for slots still to come, with their history entries.
    """
    api = make_api(scheduler_tick_seconds=0.2)
    put_job(api, apps_dir, "often", schedule={"cron": "* * * * * *"})
    fired = fx.wait_for(
        lambda: len(h := schedule(api, "often")["history"]) >= 2 and h,
        what="two fired slots",
    )
    assert {h["kind"] for h in fired} == {"fired"}
    slots = [h["first"] for h in fired]
    assert slots == sorted(slots, reverse=True) and len(set(slots)) == len(slots)
    for entry in fired:
        run = api.get(f"/api/v1/runs/{entry['run_id']}").json()
        assert (run["job"], run["trigger"]) == ("often", "schedule"), run
        slot = datetime.fromisoformat(entry["first"])
        assert datetime.fromisoformat(run["scheduled_for"]) == slot
    assert len(schedule(api, "often", limit=1)["history"]) == 1
    post(api, f"{JOBS}/often/schedule/suspend")
    after = schedule(api, "often")["history"]
    assert after[0]["kind"] == "suspended" and {h["kind"] for h in after[1:]} <= {"fired"}
