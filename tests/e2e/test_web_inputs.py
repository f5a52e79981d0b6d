"""The job form's Files, Environment and Bindings, and the Bindings page, in a real browser.

One server for the module (the fixtures of test_web.py); the tests build on each
other: a binding is made, a job uses it with an uploaded data file, a plain and a
secret variable, runs for real, is edited keeping its secret and runs again.
Every response body the browser gets is recorded: no secret may be in any, nor
in the database file.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Response, expect

from tests.e2e.test_web import (  # the module's server and browser, shared by import
    SPARK_TIMEOUT_MS,
    Server,
    browser,
    context,
    server,
    sign_in,
    wait_for_state,
)

pytestmark = [pytest.mark.browser, pytest.mark.spark, pytest.mark.xdist_group("web-e2e")]
__all__ = ["browser", "context", "server"]  # fixtures, used by name

#: Made fresh for each session: a hit can only be a leak.
JOB_SECRET = f"job-secret-{secrets.token_hex(8)}"
BINDING_SECRET = f"binding-secret-{secrets.token_hex(8)}"
TYPED_SECRET = f"typed-only-{secrets.token_hex(8)}"
ALL_SECRETS = (JOB_SECRET, BINDING_SECRET, TYPED_SECRET)
DATA = "forty-two lines of data\n"

#: No SparkContext: it prints what it got and ends in about two seconds.
APP = """\
import hashlib, os
with open("data.txt") as f:
    print("data:", f.read().strip())
print("GREETING =", os.environ.get("GREETING"))
print("CACHE_HOST =", os.environ.get("CACHE_HOST"))
print("API_TOKEN =", os.environ.get("API_TOKEN"))
print("CACHE_PASSWORD =", os.environ.get("CACHE_PASSWORD"))
for name in ("API_TOKEN", "CACHE_PASSWORD"):
    value = os.environ.get(name, "").encode()
    print(name, "sha256", hashlib.sha256(value).hexdigest()[:16], "length", len(value))
"""


def fingerprint(name: str, value: str) -> str:
    return f"{name} sha256 {hashlib.sha256(value.encode()).hexdigest()[:16]} length {len(value)}"


@pytest.fixture(scope="module")
def app_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("inputs-app")
    (folder / "env_app.py").write_text(APP)
    (folder / "data.txt").write_text(DATA)
    return folder / "env_app.py", folder / "data.txt"


@pytest.fixture
def bodies(context: BrowserContext) -> Iterator[list[str]]:
    """Every response body the browser gets; afterwards, none may hold a secret."""
    seen: list[str] = []

    def record(response: Response) -> None:
        if 300 <= response.status < 400:
            return  # a redirect has no body to read
        seen.append(response.body().decode("utf-8", "replace"))

    context.on("response", record)
    yield seen
    assert seen, "no response was recorded"
    leaks = [s for s in ALL_SECRETS for body in seen if s in body]
    assert not leaks, f"secrets sent to the browser: {sorted(set(leaks))}"


@pytest.fixture
def page(context: BrowserContext, bodies: list[str]) -> Page:
    return context.new_page()


def env_row(page: Page, number: int, name: str, value: str, *, secret: bool = False) -> None:
    page.get_by_label(f"Name of variable {number}", exact=True).fill(name)
    if secret:
        page.get_by_label(f"Secret variable {number}", exact=True).check()
        expect(page.get_by_label(f"Value of variable {number}", exact=True)).to_have_attribute(
            "type", "password"
        )
    page.get_by_label(f"Value of variable {number}", exact=True).fill(value)


def add_row_by_keyboard(page: Page, number: int) -> None:
    page.get_by_role("button", name="Add variable").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label(f"Name of variable {number}", exact=True)).to_be_focused()


# -- tests -----------------------------------------------------------------------------------


def test_create_a_binding_with_a_plain_and_a_secret_variable(page: Page) -> None:
    sign_in(page)
    page.get_by_role("link", name="Bindings").click()
    page.get_by_role("link", name="New binding").click()
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Name", exact=True).fill("Cache")  # not a valid name: comes back
    page.get_by_label("Description", exact=True).fill("The team's Redis")
    env_row(page, 1, "CACHE_HOST", "cache.internal")
    add_row_by_keyboard(page, 2)
    page.keyboard.type("CACHE_PASSWORD")
    env_row(page, 2, "CACHE_PASSWORD", TYPED_SECRET, secret=True)
    add_row_by_keyboard(page, 3)
    page.get_by_role("button", name="Remove variable 3").press("Enter")
    expect(page.get_by_role("button", name="Add variable")).to_be_focused()
    expect(page.get_by_label("Name of variable 3", exact=True)).to_have_count(0)
    assert page.evaluate("window.notReloaded"), "adding a row reloaded the page"
    page.get_by_label("Service name", exact=True).fill("redis")
    page.get_by_label("Service port", exact=True).fill("6379")
    page.get_by_role("button", name="Create").click()

    # Back with the error; what was typed is kept, except the secret, which is asked for again.
    expect(page.get_by_role("alert")).to_contain_text("fix the field")
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Value of variable 1", exact=True)).to_have_value("cache.internal")
    expect(page.get_by_label("Value of variable 2", exact=True)).to_have_value("")
    expect(page.get_by_text("Re-enter the secret")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("cache")
    page.get_by_label("Value of variable 2", exact=True).fill(BINDING_SECRET)
    page.get_by_role("button", name="Create").click()

    expect(page).to_have_url(re.compile(r"/bindings$"))
    row = page.locator("tbody tr", has_text="cache")
    expect(row).to_contain_text("CACHE_HOST")
    expect(row).to_contain_text("CACHE_PASSWORD set")
    expect(row).to_contain_text("redis:6379")
    expect(row).to_contain_text("no job")


def test_a_job_with_a_data_file_variables_a_secret_and_the_binding_runs(
    page: Page, app_files: tuple[Path, Path], server: Server
) -> None:
    app, data = app_files
    sign_in(page)
    page.get_by_role("link", name="New job").click()
    page.get_by_label("Name", exact=True).fill("env-job")
    page.get_by_label("File", exact=True).set_input_files(str(app))
    page.get_by_label("Upload files", exact=True).set_input_files(str(data))
    env_row(page, 1, "GREETING", "hello from the form")
    page.get_by_role("button", name="Add variable").click()
    env_row(page, 2, "API_TOKEN", JOB_SECRET, secret=True)
    page.get_by_label("cache").check()
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/jobs/env-job$"))

    log = run_to_success(page)
    assert "data: forty-two lines of data" in log
    assert "GREETING = hello from the form" in log
    assert "CACHE_HOST = cache.internal" in log  # from the binding
    assert "API_TOKEN = ***" in log and "CACHE_PASSWORD = ***" in log
    assert fingerprint("API_TOKEN", JOB_SECRET) in log  # the secrets did reach the app
    assert fingerprint("CACHE_PASSWORD", BINDING_SECRET) in log
    assert_not_in_database(server)


def test_editing_keeps_the_stored_secret(page: Page, server: Server) -> None:
    sign_in(page)
    page.goto("/jobs/env-job/edit")
    expect(page.get_by_label("Value of variable 1", exact=True)).to_have_value(
        "hello from the form"
    )
    secret_value = page.get_by_label("Value of variable 2", exact=True)
    expect(secret_value).to_have_value("")
    expect(secret_value).to_have_attribute("type", "password")
    expect(page.locator("#set-env-1-value")).to_contain_text("set")
    expect(page.get_by_label("cache")).to_be_checked()
    expect(page.get_by_label("Remove data.txt (uploaded)")).not_to_be_checked()
    page.get_by_label("Value of variable 1", exact=True).fill("hello again")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("version 2")).to_be_visible()

    log = run_to_success(page)
    assert "GREETING = hello again" in log
    assert "API_TOKEN = ***" in log
    assert fingerprint("API_TOKEN", JOB_SECRET) in log  # kept, not lost or replaced
    assert_not_in_database(server)


def test_deleting_a_binding_in_use_is_refused_unless_forced(page: Page) -> None:
    sign_in(page)
    page.goto("/bindings")
    row = page.locator("tbody tr", has_text="cache")
    expect(row.get_by_role("link", name="env-job")).to_be_visible()
    row.get_by_role("link", name="Delete cache").click()
    expect(page.locator("#binding-users")).to_contain_text("env-job")
    page.get_by_role("button", name="Delete cache").click()
    expect(page.get_by_role("alert")).to_contain_text("in use by env-job")
    page.goto("/bindings")
    expect(page.locator("tbody tr", has_text="cache")).to_have_count(1)

    # Forced, it goes; the job keeps naming it until someone edits the job.
    page.locator("tbody tr", has_text="cache").get_by_role("link", name="Delete cache").click()
    page.get_by_label("Delete even though jobs use it").check()
    page.get_by_role("button", name="Delete cache").click()
    expect(page).to_have_url(re.compile(r"/bindings\?deleted=cache$"))
    expect(page.get_by_role("status")).to_contain_text("cache was deleted")
    expect(page.locator("tbody tr", has_text="cache")).to_have_count(0)
    page.goto("/jobs/env-job/edit")
    expect(page.get_by_text("not on the server any more")).to_be_visible()


# -- helpers ---------------------------------------------------------------------------------


def run_to_success(page: Page) -> str:
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page).to_have_url(re.compile(r"/runs/[a-z0-9]+$"))
    wait_for_state(page, "succeeded", timeout=SPARK_TIMEOUT_MS)
    expect(page.locator("#log-text")).to_contain_text("CACHE_PASSWORD sha256", timeout=10_000)
    return page.locator("#log-text").inner_text()


def assert_not_in_database(server: Server) -> None:
    data = server.data_dir / "data"
    files = [p for p in data.glob("sparkjobs.db*") if p.is_file()]
    assert files, f"no database file in {data}"
    for path in files:
        content = path.read_bytes()
        for secret in ALL_SECRETS:
            assert secret.encode() not in content, f"{secret} is stored in plain text in {path}"
