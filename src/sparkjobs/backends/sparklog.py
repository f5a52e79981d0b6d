"""What a Spark driver's log says about its application: the app id and the UI URL.

Pure: lines in, what they name out. The patterns are the lines Spark 4.3
prints (seen in real runs, kept in tests/unit/test_backend_sparklog.py):

- standalone: "StandaloneSchedulerBackend: Connected to Spark cluster with app ID app-..."
- every master: "JettyUtils: Start Jetty 127.0.0.1:4040 for SparkUI" names the host and
  the port Spark *tries*; when that port is taken it goes on with "Service 'SparkUI' could
  not bind on port 4040. Attempting port 4041." and ends with "Successfully started
  service 'SparkUI' on port 4041." So the URL needs two lines: DriverFacts.feed.
- at the end: "SparkUI: Stopped Spark web UI at http://127.0.0.1:4041" (a whole URL).

A local master never logs its app id ("local-<millis>"); LocalBackend asks the
driver's UI for it (see ui_applications_url).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

_APP_ID = re.compile(
    r"(?:Connected to Spark cluster with app ID|Spark application id:?|Application ID:?)\s+"
    r"(?P<id>(?:app|local|spark-application)-[0-9A-Za-z-]+|application_\d+_\d+|spark-[0-9a-f]{32})"
)
_JETTY_UI = re.compile(r"Start Jetty (?P<host>[0-9A-Za-z.:\[\]-]+?):\d+ for SparkUI\b")
_UI_PORT = re.compile(r"Successfully started service 'SparkUI' on port (?P<port>\d+)")
_UI_URL = re.compile(
    r"(?:Bound SparkUI to \S+, and started at|Stopped Spark web UI at)\s+(?P<url>https?://\S+)"
)
#: Bind-all addresses are no place to point a browser at.
_WILDCARD = {"0.0.0.0", "::", "[::]"}  # noqa: S104 (recognised, not bound)


def parse_line(line: str) -> tuple[str | None, str | None]:
    """(app id, UI URL) that one driver log line names by itself; None for what it does not."""
    return _app_id(line), _whole_ui_url(line)


@dataclass(frozen=True, kw_only=True)
class DriverFacts:
    """What the lines of one driver log named so far; the first of each wins."""

    app_id: str | None = None
    ui_host: str | None = None
    ui_port: int | None = None
    whole_ui_url: str | None = None

    @property
    def ui_url(self) -> str | None:
        if self.ui_host is not None and self.ui_port is not None:
            return f"http://{self.ui_host}:{self.ui_port}"
        return self.whole_ui_url

    @property
    def complete(self) -> bool:
        return self.app_id is not None and self.ui_url is not None

    def feed(self, line: str) -> DriverFacts:
        """These facts, with what one more line names."""
        app_id, whole_url = parse_line(line)
        return replace(
            self,
            app_id=self.app_id or app_id,
            ui_host=self.ui_host or _ui_host(line),
            ui_port=self.ui_port or _ui_port(line),
            whole_ui_url=self.whole_ui_url or whole_url,
        )


def _app_id(line: str) -> str | None:
    match = _APP_ID.search(line)
    return match.group("id") if match else None


def _ui_host(line: str) -> str | None:
    match = _JETTY_UI.search(line)
    return match.group("host") if match and match.group("host") not in _WILDCARD else None


def _ui_port(line: str) -> int | None:
    match = _UI_PORT.search(line)
    return int(match.group("port")) if match else None


def _whole_ui_url(line: str) -> str | None:
    match = _UI_URL.search(line)
    return match.group("url").rstrip("/.,") if match else None


def ui_applications_url(ui_url: str) -> str:
    """The driver UI's REST endpoint that lists its application (and so its id)."""
    return ui_url.rstrip("/") + "/api/v1/applications"


def app_id_from_applications(payload: object) -> str | None:
    """The id in a /api/v1/applications answer (a driver UI lists exactly its own app)."""
    if isinstance(payload, list) and payload and isinstance(payload[0], dict):
        found = payload[0].get("id")
        return found if isinstance(found, str) and found else None
    return None
