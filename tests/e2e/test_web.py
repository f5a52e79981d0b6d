"""The web UI as a user meets it: the real server (`sparkjobs serve`), real Spark, a real Chromium.

One server serves the whole module; jobs made by one test are used by the next
(create -> run -> rerun), which keeps the real Spark runs to two word counts and
two short-lived sleepers. Every page's requests are recorded: none may leave
127.0.0.1.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support import CHROMIUM, CHROMIUM_ARGS, free_port, require, wait_healthy

# One server and one browser for the module, and tests that build on each other: one worker.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("web-e2e")]

REPO = Path(__file__).resolve().parents[2]
WORDCOUNT = REPO / "examples" / "wordcount" / "wordcount.py"
SAMPLE = REPO / "examples" / "wordcount" / "sample.txt"
TOKEN = "web-e2e-token-5d1f"
SPARK_TIMEOUT_MS = 90_000


# -- the server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path
    log: Path


def _stop_active_runs(url: str) -> None:
    """Leave no Spark process behind, whatever a failed test left running."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as api:
        for state in ("queued", "starting", "running"):
            for run in api.get("/api/v1/runs", params={"state": state}).json().get("items", []):
                api.post(f"/api/v1/runs/{run['id']}/stop")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cli = Path(sys.executable).with_name("sparkjobs")
    require(cli.exists(), f"the sparkjobs command ({cli})")
    data_dir = tmp_path_factory.mktemp("web-e2e")
    log = data_dir / "server.log"
    port = free_port()
    env = {
        **os.environ,
        "SPARKJOBS_ADMIN_TOKEN": TOKEN,
        "SPARKJOBS_POLL_INTERVAL_SECONDS": "0.2",
        "SPARKJOBS_STOP_GRACE_SECONDS": "5",
    }
    argv = [str(cli), "serve", "--port", str(port), "--data-dir", str(data_dir / "data")]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield Server(url=url, data_dir=data_dir, log=log)
        _stop_active_runs(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# -- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require(CHROMIUM.exists(), f"Chromium ({CHROMIUM}; apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    """A fresh browser profile; at the end, every request it made went to the server."""
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    requested: list[str] = []
    ctx.on("request", lambda request: requested.append(request.url))
    yield ctx
    ctx.close()
    outside = [u for u in requested if urlsplit(u).hostname != "127.0.0.1"]
    assert requested, "the test made no requests at all"
    assert not outside, f"pages requested things outside 127.0.0.1: {outside}"


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page) -> None:
    page.goto("/jobs")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()


def field_error(page: Page, label: str) -> str:
    """The error shown for a field: the text of the element its aria-errormessage names."""
    control = page.get_by_label(label, exact=True)
    expect(control).to_have_attribute("aria-invalid", "true")
    error_id = control.get_attribute("aria-errormessage")
    return page.locator(f"#{error_id}").inner_text()


def new_job(page: Page, name: str, app: Path, args: str = "") -> None:
    page.goto("/jobs")
    page.get_by_role("link", name="New job").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("File", exact=True).set_input_files(str(app))
    page.get_by_label("Arguments", exact=True).fill(args)
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(rf"/jobs/{name}$"))


def wait_for_state(page: Page, state: str, timeout: float = SPARK_TIMEOUT_MS) -> None:
    expect(page.locator("#status-h")).to_contain_text(state.replace("_", " "), timeout=timeout)


def top_words(path: Path, top: int) -> list[str]:
    """What wordcount.py prints, worked out here without Spark."""
    words = (w.strip(".,;:!?\"'()") for w in path.read_text().lower().split())
    counts = Counter(w for w in words if w)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:top]
    return [f"{word}: {count}" for word, count in ranked]


# -- tests -----------------------------------------------------------------------------------


def test_sign_in_with_the_token_and_out_again(page: Page, context: BrowserContext) -> None:
    page.goto("/jobs")
    expect(page).to_have_url(re.compile(r"/signin\?next=/jobs$"))
    page.get_by_label("Token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    assert "not the admin token" in field_error(page, "Token")

    # By keyboard only: the field, then Enter.
    page.get_by_label("Token").focus()
    page.keyboard.type(TOKEN)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    cookie = next(c for c in context.cookies() if c["name"] == "sparkjobs_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert not cookie["secure"]  # plain http on loopback; Secure when served over https

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.goto("/jobs")
    expect(page).to_have_url(re.compile(r"/signin\?next=/jobs$"))


def test_bad_input_is_shown_beside_its_field_and_kept(page: Page) -> None:
    sign_in(page)
    page.get_by_role("link", name="New job").click()
    args = "  spaced  arg \n\n$(touch /tmp/x); rm -rf ~"
    page.get_by_label("Name", exact=True).fill("Not A Name")
    page.get_by_label("File", exact=True).set_input_files(str(WORDCOUNT))
    page.get_by_label("Arguments", exact=True).fill(args)
    page.get_by_label("Spark conf", exact=True).fill("spark.master = x\nspark.ui.enabled = false")
    page.get_by_label("Driver memory", exact=True).fill("lots")
    page.get_by_role("button", name="Create").click()

    expect(page.get_by_role("alert")).to_contain_text("fix the 3 fields")
    assert "DNS-1123" in field_error(page, "Name")
    assert "spark.master" in field_error(page, "Spark conf")
    assert "512m or 2g" in field_error(page, "Driver memory")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Not A Name")
    expect(page.get_by_label("Arguments", exact=True)).to_have_value(args)
    expect(page.get_by_label("Driver memory", exact=True)).to_have_value("lots")
    expect(page.get_by_text("Current file: wordcount.py")).to_be_visible()

    # Fix the three; the file uploaded the first time is still there.
    page.get_by_label("Name", exact=True).fill("kept-upload")
    page.get_by_label("Spark conf", exact=True).fill("spark.ui.enabled = false")
    page.get_by_label("Driver memory", exact=True).fill("512m")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/jobs/kept-upload$"))
    expect(page.get_by_text("upload wordcount.py")).to_be_visible()
    shown = page.locator("ol.args code").all_inner_texts()
    assert shown == ["  spaced  arg ", "", "$(touch /tmp/x); rm -rf ~"]


def test_create_run_watch_and_rerun_word_count(page: Page) -> None:
    sign_in(page)
    new_job(page, "wordcount", WORDCOUNT, f"{SAMPLE}\n5")
    expect(page.get_by_text("version 1")).to_be_visible()

    page.get_by_role("button", name="Run", exact=True).click()
    expect(page).to_have_url(re.compile(r"/runs/[a-z0-9]+$"))
    page.evaluate("window.notReloaded = true")
    wait_for_state(page, "succeeded")
    expected = top_words(SAMPLE, 5)
    expect(page.locator("#log-text")).to_contain_text(expected[0], timeout=10_000)
    log = page.locator("#log-text").inner_text()
    assert all(line in log for line in expected), (expected, log[-2000:])
    assert page.evaluate("window.notReloaded"), "the page reloaded instead of updating itself"
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(page.get_by_text("exit code 0").first).to_be_visible()
    first_run = page.url

    page.get_by_role("button", name="Rerun").click()
    expect(page).not_to_have_url(first_run)
    expect(page.locator("#run-status")).to_contain_text("rerun")
    wait_for_state(page, "succeeded")
    expect(page.locator("#log-text")).to_contain_text(expected[0], timeout=10_000)

    page.get_by_role("link", name="wordcount").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("rerun")
    expect(rows.nth(1)).to_contain_text("api")

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("readonly", "")
    expect(page.get_by_label("Arguments", exact=True)).to_have_value(f"{SAMPLE}\n5")
    page.get_by_label("Description", exact=True).fill("Counts words")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("version 2")).to_be_visible()
    expect(page.get_by_text("Counts words")).to_be_visible()
    expect(page.get_by_text("upload wordcount.py")).to_be_visible()


def test_editing_keeps_what_the_form_does_not_show(page: Page, server: Server) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as api:
        with WORDCOUNT.open("rb") as f:
            artifact = api.post("/api/v1/artifacts", files={"file": ("app.py", f)}).json()
        spec = {
            "name": "keeper",
            "source": {"type": "artifact", "id": artifact["id"]},
            "packages": ["org.example:lib:1.0"],
            "labels": {"team": "data"},
            "description": "<em>not html</em>",
        }
        assert api.put("/api/v1/jobs/keeper", json=spec).status_code == 201
        sign_in(page)
        page.get_by_label("Label").fill("team=data")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("tbody th a")).to_have_text(["keeper"])
        page.get_by_role("link", name="keeper").click()
        expect(page.get_by_text("<em>not html</em>")).to_be_visible()
        page.goto("/jobs/keeper/edit")
        expect(page.get_by_text("does not show packages")).to_be_visible()
        page.get_by_label("Timeout", exact=True).fill("2h")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("version 2")).to_be_visible()
        saved = api.get("/api/v1/jobs/keeper").json()
    assert saved["version"] == 2
    assert saved["spec"]["packages"] == ["org.example:lib:1.0"]
    assert saved["spec"]["timeout_seconds"] == 7200


def test_pages_fit_a_phone_screen(page: Page) -> None:
    sign_in(page)
    page.set_viewport_size({"width": 375, "height": 740})
    for path in ("/jobs", "/new-job", "/jobs/wordcount"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone screen"


@pytest.fixture(scope="module")
def sleeper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("apps") / "sleeper.py"
    path.write_text('import time\nprint("sleeping", flush=True)\ntime.sleep(600)\n')
    return path


def test_stop_a_long_job(page: Page, sleeper: Path) -> None:
    sign_in(page)
    new_job(page, "sleeper", sleeper)
    page.get_by_role("button", name="Run", exact=True).click()
    wait_for_state(page, "running")
    expect(page.locator("#log-text")).to_contain_text("sleeping", timeout=30_000)
    page.get_by_role("button", name="Stop").click()
    wait_for_state(page, "stopped", timeout=30_000)
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(page.get_by_text("stopped on request").first).to_be_visible()


def test_delete_a_job_after_confirming(page: Page) -> None:
    sign_in(page)
    page.goto("/jobs/sleeper")
    page.get_by_text("Run with other arguments").click()
    page.get_by_label("Arguments for this run").fill("only this time\n  x ")
    page.get_by_role("button", name="Run with these arguments").click()
    wait_for_state(page, "running")
    assert page.locator("ol.args code").all_inner_texts() == ["only this time", "  x "]
    run_id = page.url.rsplit("/", 1)[1]

    page.goto("/jobs/sleeper")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete job sleeper?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("will be stopped")
    expect(page.get_by_role("link", name=run_id)).to_be_visible()
    expect(page.locator("main")).to_contain_text("2 runs")
    page.get_by_role("button", name="Delete sleeper").click()

    expect(page).to_have_url(re.compile(r"/jobs\?deleted=sleeper$"), timeout=40_000)
    expect(page.get_by_role("status")).to_contain_text("sleeper was deleted")
    expect(page.get_by_role("link", name="sleeper", exact=True)).to_have_count(0)
    gone = page.goto(f"/runs/{run_id}")
    assert gone is not None and gone.status == 404


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    """An HTTP client signed in the way a browser does (sign-in form, then the cookie)."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        form = http.get("/signin").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        signed_in = http.post("/signin", data={"token": TOKEN, "csrf_token": token.group(1)})
        assert signed_in.status_code == 303 and "sparkjobs_session" in http.cookies
        yield http


def test_a_post_without_the_csrf_token_is_refused(server: Server, client: httpx.Client) -> None:
    form = client.get("/new-job")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert form.status_code == 200 and csrf is not None
    job = {"name": "forged", "source_type": "path", "source_path": "/etc/hosts"}
    assert client.post("/new-job", data=job).status_code == 403
    assert client.post("/new-job", data={**job, "csrf_token": "0" * 64}).status_code == 403
    assert client.get("/jobs/forged").status_code == 404
    assert client.post("/jobs/wordcount/run", data={}).status_code == 403
    assert client.post("/signout", data={}).status_code == 403
    # With the page's token the same request gets through (and fails on its content).
    accepted = client.post("/new-job", data={**job, "csrf_token": csrf.group(1)})
    assert accepted.status_code == 422
    assert 'id="err-source_path"' in accepted.text

    with httpx.Client(base_url=server.url, timeout=10) as stranger:
        # The sign-in form is protected too (double-submit): no cookie, no sign-in.
        refused = stranger.post("/signin", data={"token": TOKEN, "csrf_token": "x"})
        assert refused.status_code == 403 and "sparkjobs_session" not in stranger.cookies
