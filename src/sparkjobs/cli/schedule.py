"""`sparkjobs schedule show|suspend|resume JOB`: a job's schedule, its next runs and history.

Times show twice where it matters: in the schedule's own time zone (what the
cron means) and in UTC (what logs and other servers say).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.table import Table
from rich.text import Text

from sparkjobs.cli.common import handles_errors, out, show, table_of, target
from sparkjobs.client import HistoryEntry, NextRun, ScheduleOut, SparkJobsClient

schedule_app = typer.Typer(help="See, suspend and resume job schedules.", no_args_is_help=True)

JobArgument = Annotated[str, typer.Argument(metavar="JOB")]

#: Kinds whose slot columns mean something; the others happened at one moment.
SLOT_KINDS = frozenset({"fired", "skipped"})


def local_time(iso: str, timezone: str) -> str:
    """An instant as wall-clock time in `timezone`, with its abbreviation (CET, CEST)."""
    instant = datetime.fromisoformat(iso)
    try:
        return instant.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")
    except (ZoneInfoNotFoundError, ValueError):  # this machine lacks the zone: keep the offset
        return instant.strftime("%Y-%m-%d %H:%M:%S %z")


def utc_time(iso: str) -> str:
    return local_time(iso, "UTC")


def summary(description: str | None, suspended: bool) -> str:
    return f"Schedule: {description} ({'suspended' if suspended else 'active'})"


def _policies(spec: dict[str, Any]) -> str:
    keys = ("concurrency_policy", "missed_runs", "max_catch_up", "starting_deadline_seconds")
    return ", ".join(f"{k}={spec.get(k)}" for k in keys)


def next_runs_table(next_runs: list[NextRun], timezone: str) -> Table:
    table = table_of(f"NEXT RUNS ({timezone})", "UTC")
    for slot in next_runs:
        table.add_row(local_time(slot["local"], timezone), utc_time(slot["at"]))
    return table


def _slots(entry: HistoryEntry, fmt: Callable[[str], str]) -> str:
    if entry["kind"] not in SLOT_KINDS:
        return "-"
    if entry["first"] == entry["last"]:
        return fmt(entry["first"])
    return f"{fmt(entry['first'])} .. {fmt(entry['last'])} ({entry['count']} slots)"


def history_table(history: list[HistoryEntry], timezone: str) -> Table:
    def fmt(iso: str) -> str:
        return local_time(iso, timezone)

    table = table_of(f"WHEN ({timezone})", "KIND", "SLOTS", "RUN", "REASON")
    for e in history:
        reason = Text(e["reason"])  # the server's words, never rich markup
        table.add_row(fmt(e["at"]), e["kind"], _slots(e, fmt), e["run_id"] or "-", reason)
    return table


def print_view(view: ScheduleOut) -> None:
    if view["schedule"] is None:
        out.print(f"job {view['job']} has no schedule", highlight=False)
        return
    timezone = str(view["schedule"]["timezone"])
    out.print(summary(view["description"], view["suspended"]), highlight=False, markup=False)
    out.print(f"cron: {view['schedule']['cron']}", highlight=False, markup=False)
    out.print(_policies(view["schedule"]), highlight=False, markup=False)
    if view["next_runs"]:
        show(next_runs_table(view["next_runs"], timezone))
    out.print("history (newest first):" if view["history"] else "history: none yet")
    if view["history"]:
        show(history_table(view["history"], timezone))


def _act(ctx: typer.Context, job: str, act: Callable[[SparkJobsClient], ScheduleOut]) -> None:
    with target(ctx).client() as api:
        view = act(api)
    state = "suspended" if view["suspended"] else "active"
    out.print(f"schedule of job {job} is {state}", highlight=False)


@schedule_app.command("show")
@handles_errors
def schedule_show(
    ctx: typer.Context,
    job: JobArgument,
    limit: Annotated[int, typer.Option(min=1, help="history entries at most")] = 20,
) -> None:
    """Show a job's schedule: next runs (its time zone and UTC) and history."""
    with target(ctx).client() as api:
        print_view(api.get_schedule(job, limit=limit))


@schedule_app.command("suspend")
@handles_errors
def schedule_suspend(ctx: typer.Context, job: JobArgument) -> None:
    """Stop firing a job's schedule until resumed; missed slots follow its missed_runs."""
    _act(ctx, job, lambda api: api.suspend_schedule(job))


@schedule_app.command("resume")
@handles_errors
def schedule_resume(ctx: typer.Context, job: JobArgument) -> None:
    """Fire a job's schedule again (a spec with suspended: true must be changed instead)."""
    _act(ctx, job, lambda api: api.resume_schedule(job))
