"""Schedules from the `sparkjobs` command against the real server: the nightly word count
example applied from its YAML, its next runs in Berlin time and UTC, suspend and resume,
and a bad cron refused naming the field. No Spark: the job fires at 02:00 Berlin only.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

if TYPE_CHECKING:
    from conftest import CliServer

pytestmark = pytest.mark.xdist_group("cli-e2e")  # one server for the module

NIGHTLY = Path(__file__).resolve().parents[2] / "examples" / "wordcount" / "job-nightly.yaml"
BERLIN = ZoneInfo("Europe/Berlin")


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def nightly_slots(after: datetime, n: int = 5) -> list[datetime]:
    """The next n 02:00 Berlin slots in UTC (a 02:00 the spring change skips: at the change)."""
    day, found = after.astimezone(BERLIN).date(), list[datetime]()
    while len(found) < n:
        slot = datetime.combine(day, time(2), BERLIN).astimezone(UTC)
        if slot > after:
            found.append(slot)
        day += timedelta(days=1)
    return found


def shows_next_runs(text: str, before: datetime) -> bool:
    """Each of the next five slots is on one line: Berlin time (CET/CEST) and UTC."""
    lines = text.splitlines()
    for slots in (nightly_slots(before), nightly_slots(datetime.now(UTC))):
        wanted = [
            (s.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M:%S %Z"), s.strftime("%Y-%m-%d %H:%M:%S"))
            for s in slots
        ]
        if all(any(local in ln and utc + " UTC" in ln for ln in lines) for local, utc in wanted):
            return True
    return False


def test_schedule_from_the_cli(cli_server: CliServer) -> None:
    before = datetime.now(UTC)
    assert "created" in ok(cli_server.cli("jobs", "apply", "-f", str(NIGHTLY)))
    shown = ok(cli_server.cli("jobs", "show", "wordcount-nightly"))
    assert "cron: 0 2 * * *" in shown and "timezone: Europe/Berlin" in shown  # the spec
    assert "Schedule: At 02:00, Europe/Berlin (active)" in shown
    assert "NEXT RUNS (Europe/Berlin)" in shown and shows_next_runs(shown, before), shown

    suspended = ok(cli_server.cli("schedule", "suspend", "wordcount-nightly"))
    assert "schedule of job wordcount-nightly is suspended" in suspended
    shown = ok(cli_server.cli("jobs", "show", "wordcount-nightly"))
    assert "(suspended)" in shown and "NEXT RUNS" not in shown
    view = ok(cli_server.cli("schedule", "show", "wordcount-nightly"))
    assert "(suspended)" in view and "suspended on request" in view

    assert "is active" in ok(cli_server.cli("schedule", "resume", "wordcount-nightly"))
    view = ok(cli_server.cli("schedule", "show", "wordcount-nightly"))
    assert "Schedule: At 02:00, Europe/Berlin (active)" in view
    assert "concurrency_policy=forbid, missed_runs=run_once" in view
    assert shows_next_runs(view, before), view
    kinds = [ln.split()[3] for ln in view.splitlines() if "on request" in ln]
    assert kinds == ["resumed", "suspended"]  # newest first (date, time, zone, kind)


def test_schedule_errors_from_the_cli(cli_server: CliServer, tmp_path: Path) -> None:
    app = NIGHTLY.parent / "wordcount.py"
    for schedule, field, words in [
        ('{cron: "0 2 * *"}', "schedule.cron", "5 fields"),
        ('{cron: "61 * * * *"}', "schedule.cron", "minute 61"),
        ('{cron: "0 2 * * *", timezone: Mars/Olympus}', "schedule.timezone", "Mars/Olympus"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(f"name: bad\nsource: {{type: file, path: {app}}}\nschedule: {schedule}\n")
        refused = cli_server.cli("jobs", "apply", "-f", str(bad))
        assert refused.returncode == 2, refused.stderr
        assert f"{field}: " in refused.stderr and words in refused.stderr, refused.stderr
    assert cli_server.cli("jobs", "show", "bad").returncode == 1

    plain = tmp_path / "plain.yaml"
    plain.write_text(f"name: plain\nsource: {{type: file, path: {app}}}\n")
    ok(cli_server.cli("jobs", "apply", "-f", str(plain)))
    assert "NEXT RUNS" not in ok(cli_server.cli("jobs", "show", "plain"))
    no_schedule = cli_server.cli("schedule", "suspend", "plain")
    assert no_schedule.returncode == 2 and "no schedule" in no_schedule.stderr
    missing = cli_server.cli("schedule", "show", "nope")
    assert missing.returncode == 1 and "not found" in missing.stderr
