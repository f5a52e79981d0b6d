"""Screenshots of the web UI's main pages, for docs/screenshots/.

Usage:
    .venv/bin/python scripts/screenshots.py            # starts `sparkjobs serve` on a temp dir
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8080 --token TOKEN

It signs in, creates a binding on the Bindings page, creates the word count job
from the form (with the example's file and arguments, a data file, a plain and a
secret variable and the binding), runs it to the end, adds a job scheduled every night in
Europe/Berlin with alert targets (suspended and resumed once, to fill its history), and
photographs the pages on a laptop-sized and a phone-sized screen. Needs Chromium at
/usr/bin/chromium and, when it starts its own server, Spark and Java as the server needs them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
EXAMPLE = REPO / "examples" / "wordcount"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@contextlib.contextmanager
def own_server(token: str) -> Iterator[str]:
    """`sparkjobs serve` on a free loopback port and a temporary data directory."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cli = Path(sys.executable).with_name("sparkjobs")
    with tempfile.TemporaryDirectory(prefix="sparkjobs-shots-") as data:
        env = {**os.environ, "SPARKJOBS_ADMIN_TOKEN": token}
        argv = [str(cli), "serve", "--port", str(port), "--data-dir", data]
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def wait_healthy(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"{url} did not become healthy in {seconds:.0f} s")


def shoot(page: Page, name: str) -> None:
    page.wait_for_timeout(300)  # let htmx settle
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"wrote docs/screenshots/{name}.png")


def sign_in(page: Page, token: str) -> None:
    page.goto("/jobs")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def fill_word_count(page: Page, name: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Description", exact=True).fill("Counts the words of a text")
    page.get_by_label("Labels", exact=True).fill("team = docs")
    page.get_by_label("File", exact=True).set_input_files(str(EXAMPLE / "wordcount.py"))
    page.get_by_label("Arguments", exact=True).fill(f"{EXAMPLE / 'sample.txt'}\n5")
    page.get_by_label("Spark conf", exact=True).fill("spark.sql.shuffle.partitions = 4")
    page.get_by_label("Timeout", exact=True).fill("10m")


def shoot_section(page: Page, heading_id: str, name: str) -> None:
    """One card of a form (the section whose heading has this id)."""
    page.wait_for_timeout(300)
    page.locator(f"section.card:has(#{heading_id})").screenshot(path=str(OUT / f"{name}.png"))
    print(f"wrote docs/screenshots/{name}.png")


def make_binding(page: Page) -> None:
    """A binding with a plain and a secret variable and a Kubernetes Service."""
    page.get_by_role("link", name="Bindings").click()
    page.get_by_role("link", name="New binding").click()
    page.get_by_label("Name", exact=True).fill("cache")
    page.get_by_label("Description", exact=True).fill("The team's Redis")
    page.get_by_label("Name of variable 1", exact=True).fill("CACHE_HOST")
    page.get_by_label("Value of variable 1", exact=True).fill("cache.internal")
    page.get_by_role("button", name="Add variable").click()
    page.get_by_label("Name of variable 2", exact=True).fill("CACHE_PASSWORD")
    page.get_by_label("Secret variable 2", exact=True).check()
    page.get_by_label("Value of variable 2", exact=True).fill("not-a-real-password")
    page.get_by_label("Service name", exact=True).fill("redis")
    page.get_by_label("Service port", exact=True).fill("6379")
    shoot(page, "binding-form")
    page.get_by_role("button", name="Create").click()


def fill_inputs(page: Page) -> None:
    """Files, Environment and Bindings of the word count job (it ignores the variables)."""
    page.get_by_label("Upload files", exact=True).set_input_files(str(EXAMPLE / "sample.txt"))
    page.get_by_label("Name of variable 1", exact=True).fill("REPORT_TITLE")
    page.get_by_label("Value of variable 1", exact=True).fill("Top words")
    page.get_by_role("button", name="Add variable").click()
    page.get_by_label("Name of variable 2", exact=True).fill("API_TOKEN")
    page.get_by_label("Secret variable 2", exact=True).check()
    page.get_by_label("Value of variable 2", exact=True).fill("not-a-real-token")
    page.get_by_label("cache").check()


def make_scheduled_job(page: Page, name: str) -> str:
    """A nightly job with a schedule and alerts; returns its page's path."""
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("link", name="New job").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Description", exact=True).fill("Counts the words every night")
    page.get_by_label("File", exact=True).set_input_files(str(EXAMPLE / "wordcount.py"))
    page.get_by_label("Arguments", exact=True).fill(f"{EXAMPLE / 'sample.txt'}\n5")
    page.get_by_label("Cron", exact=True).fill("0 2 * * *")
    page.get_by_label("Time zone", exact=True).fill("Europe/Berlin")
    page.get_by_label("Concurrency policy", exact=True).select_option("forbid")
    page.get_by_label("On failure", exact=True).fill(
        "ops@example.com\nhttps://hooks.example.org/services/T0/not-a-real-token"
    )
    expect(page.locator("#schedule-preview")).to_contain_text("Europe/Berlin")
    shoot_section(page, "sec-schedule", "job-form-schedule")
    shoot_section(page, "sec-alerts", "job-form-alerts")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("button", name="Suspend").click()
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("button", name="Suspend")).to_be_visible()
    shoot(page, "job-scheduled")
    return f"/jobs/{name}"


def tour(page: Page, token: str, name: str) -> dict[str, str]:
    """Desktop screenshots along the way; returns the paths to revisit on a phone."""
    sign_in(page, token)
    make_binding(page)
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("link", name="New job").click()
    fill_word_count(page, "Word Count")
    page.get_by_label("Spark conf", exact=True).fill("spark.master = local[8]")
    page.get_by_role("button", name="Create").click()
    shoot(page, "job-form-errors")
    fill_word_count(page, name)
    fill_inputs(page)
    page.get_by_role("button", name="Create").click()
    job_path = f"/jobs/{name}"
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("#status-h")).to_contain_text("running", timeout=60_000)
    shoot(page, "run-running")
    expect(page.locator("#status-h")).to_contain_text("succeeded", timeout=120_000)
    run_path = page.url.removeprefix(page.url.split("/runs/")[0])
    shoot(page, "run")
    page.goto(job_path)
    shoot(page, "job")
    page.goto(f"{job_path}/edit")
    shoot(page, "job-form")
    shoot_section(page, "sec-env", "job-form-env")
    scheduled_path = make_scheduled_job(page, f"{name}-nightly")
    page.goto("/jobs")
    shoot(page, "jobs")
    page.goto("/bindings")
    shoot(page, "bindings")
    paths = {"jobs": "/jobs", "job": job_path, "job-form": "/new-job", "run": run_path}
    return paths | {"bindings": "/bindings", "job-scheduled": scheduled_path}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--token", default="screenshots-token", help="its admin token")
    parser.add_argument("--job", default="wordcount", help="name of the job to create")
    opts = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    server = contextlib.nullcontext(opts.url) if opts.url else own_server(opts.token)
    with server as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        desktop = browser.new_context(base_url=url, viewport=DESKTOP)
        paths = tour(desktop.new_page(), opts.token, opts.job)
        phone = browser.new_context(base_url=url, viewport=PHONE, is_mobile=True, has_touch=True)
        page = phone.new_page()
        sign_in(page, opts.token)
        for name, path in paths.items():
            page.goto(path)
            shoot(page, f"{name}-phone")
        browser.close()


if __name__ == "__main__":
    main()
