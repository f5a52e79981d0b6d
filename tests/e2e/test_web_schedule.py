"""Schedules and alerts in the web UI, in a real browser against the real server.

One server for the module (the fixtures of test_web.py); the tests build on each
other: a bad cron comes back with its error, the cron is described as it is
typed, a scheduled job is made, suspended and resumed, run once by hand, and its
alert targets and schedule go through Edit. No test waits for Spark; the one run
started by hand is a two-line script, and the server stops what is left at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_web import (  # the module's server and browser, shared by import
    TOKEN,
    Server,
    browser,
    client,
    context,
    field_error,
    page,
    server,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("web-e2e")]
__all__ = ["browser", "client", "context", "page", "server"]  # fixtures, used by name

JOB = "nightly"
BERLIN = ZoneInfo("Europe/Berlin")
WEBHOOK = "https://hooks.example.org/services/T0/not-a-real-token"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schedule-app") / "hello.py"
    path.write_text('print("hello from a scheduled job")\n')
    return path


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as http:
        yield http


def next_two_am_in_berlin() -> str:
    """The first run of '0 2 * * *' in Europe/Berlin as the page writes it, worked out here."""
    now = datetime.now(BERLIN)
    day = now.date() if now.hour < 2 else now.date() + timedelta(days=1)
    slot = datetime(day.year, day.month, day.day, 2, 0, tzinfo=BERLIN)
    return f"{slot:%a %Y-%m-%d} 02:00 {slot.tzname()}"


def open_new_job(page: Page, name: str, app: Path) -> None:
    sign_in(page)
    page.get_by_role("link", name="New job").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("File", exact=True).set_input_files(str(app))


def history(page: Page) -> list[str]:
    return page.locator("#schedule table[aria-labelledby='history-h'] tbody tr").all_inner_texts()


# -- tests -----------------------------------------------------------------------------------


def test_a_bad_cron_is_shown_beside_the_cron_field_and_kept(page: Page, app: Path) -> None:
    open_new_job(page, JOB, app)
    page.get_by_label("Cron", exact=True).fill("61 * * * *")
    page.get_by_label("Time zone", exact=True).fill("Europe/Berlin")
    page.get_by_label("On failure", exact=True).fill("ops@example.com\nslack #ops")
    page.get_by_role("button", name="Create").click()

    expect(page.get_by_role("alert")).to_contain_text("fix the 2 fields")
    assert "minute 61 is out of range 0-59" in field_error(page, "Cron")
    assert "line 2: write an https:// URL" in field_error(page, "On failure")
    expect(page.get_by_label("Cron", exact=True)).to_have_value("61 * * * *")
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("Europe/Berlin")
    expect(page.get_by_label("On failure", exact=True)).to_have_value("ops@example.com\nslack #ops")
    expect(page.get_by_text("Current file: hello.py")).to_be_visible()

    page.get_by_label("Cron", exact=True).fill("0 2 * *")
    page.get_by_label("On failure", exact=True).fill("ops@example.com")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert")).to_contain_text("fix the field")
    assert "must have 5 fields" in field_error(page, "Cron")
    expect(page.get_by_label("Cron", exact=True)).to_have_value("0 2 * *")
    expect(page.get_by_label("On failure", exact=True)).to_have_value("ops@example.com")
    expect(page.get_by_label("On failure", exact=True)).not_to_have_attribute(
        "aria-invalid", "true"
    )


def test_the_cron_is_described_as_it_is_typed(page: Page) -> None:
    sign_in(page)
    page.get_by_role("link", name="New job").click()
    page.evaluate("window.notReloaded = true")
    preview = page.locator("#schedule-preview")
    expect(preview).to_contain_text("No schedule")
    expect(page.locator("#iana-zones option[value='Europe/Berlin']")).to_have_count(1)

    page.get_by_label("Cron", exact=True).fill("0 2 * * *")
    expect(preview).to_contain_text("At 02:00, UTC")
    page.get_by_label("Time zone", exact=True).fill("Europe/Berlin")
    expect(preview).to_contain_text("At 02:00, Europe/Berlin")
    times = preview.locator("ol.next-runs li")
    expect(times).to_have_count(5)
    expect(times.first).to_contain_text(next_two_am_in_berlin())
    expect(times.first).to_contain_text("UTC")

    cron = page.get_by_label("Cron", exact=True)
    cron.fill("")
    cron.press_sequentially("61 * * * *", delay=30)  # key by key, as a person types
    expect(preview.locator(".error")).to_have_text("Cron: cron minute 61 is out of range 0-59")
    expect(times).to_have_count(0)
    page.get_by_label("Time zone", exact=True).fill("Europe/Nowhere")
    page.get_by_label("Cron", exact=True).fill("@daily")
    expect(preview.locator(".error")).to_contain_text("Time zone: timezone 'Europe/Nowhere'")
    page.get_by_label("Cron", exact=True).fill("")
    page.get_by_label("Time zone", exact=True).fill("UTC")
    expect(preview).to_contain_text("No schedule")
    assert page.evaluate("window.notReloaded"), "the preview reloaded the page"


def test_a_scheduled_job_shows_its_schedule_on_the_list_and_its_page(page: Page, app: Path) -> None:
    open_new_job(page, JOB, app)
    page.get_by_label("Cron", exact=True).fill("0 2 * * *")
    page.get_by_label("Time zone", exact=True).fill("Europe/Berlin")
    page.get_by_label("Concurrency policy", exact=True).select_option("forbid")
    page.get_by_label("Missed runs", exact=True).select_option("catch_up")
    page.get_by_label("Max catch-up", exact=True).fill("3")
    page.get_by_label("Starting deadline (seconds)", exact=True).fill("600")
    page.get_by_label("On failure", exact=True).fill(f"ops@example.com\n{WEBHOOK}")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(rf"/jobs/{JOB}$"))

    first = next_two_am_in_berlin()
    expect(page.locator("#schedule-h")).to_have_text("Schedule: At 02:00, Europe/Berlin")
    expect(page.locator(".definition").first).to_contain_text("At 02:00, Europe/Berlin")
    upcoming = page.locator("#schedule table[aria-labelledby='next-runs-h'] tbody tr")
    expect(upcoming).to_have_count(5)
    expect(upcoming.first).to_contain_text(first)
    expect(upcoming.first).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d (00|01):00 UTC"))
    expect(page.locator("#schedule")).to_contain_text("catch up, at most 3")
    expect(page.locator("#schedule")).to_contain_text("600 s")
    expect(page.get_by_text("webhook https://hooks.example.org/...")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("not-a-real-token")
    expect(page.get_by_role("button", name="Suspend")).to_be_visible()

    page.goto("/jobs")
    row = page.locator("tbody tr", has_text=JOB)
    expect(row.locator("[data-label='Schedule']")).to_have_text("At 02:00, Europe/Berlin")
    expect(row.locator("[data-label='Next run']")).to_have_text(first)


def test_suspend_then_resume_change_the_job_page(page: Page) -> None:
    sign_in(page)
    page.goto(f"/jobs/{JOB}")
    page.get_by_role("button", name="Suspend").click()
    expect(page).to_have_url(re.compile(rf"/jobs/{JOB}$"))
    expect(page.locator("#schedule-h")).to_contain_text("suspended")
    expect(page.locator("#schedule-state")).to_contain_text("nothing fires until")
    expect(page.get_by_text("None while the schedule is suspended")).to_be_visible()
    expect(page.get_by_role("button", name="Suspend")).to_have_count(0)
    assert "suspended on request" in history(page)[0]
    page.goto("/jobs")
    row = page.locator("tbody tr", has_text=JOB)
    expect(row.locator("[data-label='Schedule']")).to_contain_text("suspended")
    expect(row.locator("[data-label='Next run']")).to_have_text("")

    page.goto(f"/jobs/{JOB}")
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("button", name="Suspend")).to_be_visible()
    expect(page.locator("#schedule-h")).not_to_contain_text("suspended")
    expect(page.locator("#schedule table[aria-labelledby='next-runs-h'] tbody tr")).to_have_count(5)
    rows = history(page)
    assert len(rows) == 2, rows
    assert "resumed" in rows[0] and "resumed on request" in rows[0]
    assert "suspended" in rows[1]


def test_suspend_and_resume_need_the_pages_csrf_token(client: httpx.Client) -> None:
    assert client.post(f"/jobs/{JOB}/schedule/suspend", data={}).status_code == 403
    assert client.post(f"/jobs/{JOB}/schedule/resume", data={}).status_code == 403
    shown = client.get(f"/jobs/{JOB}").text
    # Unchanged: still resumed (a Suspend button), and no new history entry.
    assert f'action="/jobs/{JOB}/schedule/suspend"' in shown
    assert f'action="/jobs/{JOB}/schedule/resume"' not in shown
    assert shown.count("badge-suspended") == shown.count("badge-resumed") == 1


def test_run_now_on_a_scheduled_job_is_recorded_as_manual(page: Page) -> None:
    sign_in(page)
    page.goto(f"/jobs/{JOB}")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page).to_have_url(re.compile(r"/runs/[a-z0-9]+$"))
    run_id = page.url.rsplit("/", 1)[1]
    page.goto(f"/jobs/{JOB}")
    newest = page.locator("#schedule table[aria-labelledby='history-h'] tbody tr").first
    expect(newest).to_contain_text("manual")
    expect(newest).to_contain_text("run now, outside the schedule")
    expect(newest.get_by_role("link", name=run_id)).to_be_visible()


def test_alert_targets_and_the_schedule_round_trip_through_edit(
    page: Page, api: httpx.Client
) -> None:
    sign_in(page)
    page.goto(f"/jobs/{JOB}/edit")
    expect(page.get_by_label("Cron", exact=True)).to_have_value("0 2 * * *")
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("Europe/Berlin")
    expect(page.get_by_label("Concurrency policy", exact=True)).to_have_value("forbid")
    expect(page.get_by_label("Missed runs", exact=True)).to_have_value("catch_up")
    expect(page.get_by_label("Max catch-up", exact=True)).to_have_value("3")
    expect(page.get_by_label("Starting deadline (seconds)", exact=True)).to_have_value("600")
    expect(page.locator("#schedule-preview")).to_contain_text("At 02:00, Europe/Berlin")
    on_failure = page.get_by_label("On failure", exact=True)
    expect(on_failure).to_have_value(f"ops@example.com\n{WEBHOOK}")
    expect(page.get_by_label("Alert on the last attempt only")).to_be_checked()

    page.get_by_label("On success", exact=True).fill("team@example.com")
    page.get_by_label("Alert on the last attempt only").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("version 2")).to_be_visible()

    page.goto(f"/jobs/{JOB}/edit")
    expect(on_failure).to_have_value(f"ops@example.com\n{WEBHOOK}")
    expect(page.get_by_label("On success", exact=True)).to_have_value("team@example.com")
    expect(page.get_by_label("On start", exact=True)).to_have_value("")
    expect(page.get_by_label("Alert on the last attempt only")).not_to_be_checked()
    stored = api.get(f"/api/v1/jobs/{JOB}").json()["spec"]
    assert stored["notify"] == {
        "on_failure": [{"email": "ops@example.com"}, {"webhook": WEBHOOK}],
        "on_success": [{"email": "team@example.com"}],
        "on_start": [],
        "last_attempt_only": False,
    }
    assert stored["schedule"]["cron"] == "0 2 * * *"
    assert stored["schedule"]["starting_deadline_seconds"] == 600


def test_the_schedule_pages_fit_a_phone_screen(page: Page) -> None:
    sign_in(page)
    page.set_viewport_size({"width": 375, "height": 740})
    for path in ("/jobs", f"/jobs/{JOB}", f"/jobs/{JOB}/edit"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone screen"


def test_emptying_the_cron_removes_the_schedule(page: Page, api: httpx.Client) -> None:
    sign_in(page)
    page.goto(f"/jobs/{JOB}/edit")
    page.get_by_label("Cron", exact=True).fill("")
    expect(page.locator("#schedule-preview")).to_contain_text("No schedule")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("version 3")).to_be_visible()
    expect(page.locator(".definition").first).to_contain_text("none: runs only when asked")
    expect(page.locator("#schedule")).to_have_count(0)
    assert api.get(f"/api/v1/jobs/{JOB}").json()["spec"]["schedule"] is None
    page.goto("/jobs")
    expect(page.locator("tbody tr", has_text=JOB).locator("[data-label='Schedule']")).to_have_text(
        "none"
    )
