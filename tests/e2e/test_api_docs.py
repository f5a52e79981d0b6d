"""/docs works on a machine with no internet: Swagger UI comes from the server itself."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.conftest import CliServer, require

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def test_docs_render_the_api_from_local_files_only(cli_server: CliServer) -> None:
    page_html = httpx.get(f"{cli_server.url}/docs", timeout=10).text
    assert "cdn" not in page_html.lower()
    require(CHROMIUM.exists(), f"Chromium ({CHROMIUM})")
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{cli_server.url}/docs")
            page.get_by_text("/api/v1/jobs").first.wait_for(timeout=15_000)
        finally:
            browser.close()
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in requested), requested
