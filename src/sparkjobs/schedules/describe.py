"""A schedule in words, for the web UI and the CLI: "At 02:00 on Monday, Europe/Berlin".

Covers the common shapes; anything else is shown as its cron text.
"""

from __future__ import annotations

import re

from sparkjobs.schedules.cron import Cron
from sparkjobs.schedules.spec import ScheduleSpec

_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_STEP = re.compile(r"^(\*|0)/(\d+)$")


def describe(spec: ScheduleSpec) -> str:
    """The schedule in words, or 'cron <text>, <zone>' when its shape is unusual."""
    cron = spec.parsed
    interval = _interval(cron)
    days = _days(cron)
    if interval is not None and days == "" and cron.every_hour:
        return interval  # the time zone hardly matters to a plain interval
    when = interval if interval is not None else _times(cron)
    if when is None or days is None:
        return f"cron {spec.cron}, {spec.timezone}"
    return f"{when}{days}, {spec.timezone}"


def _interval(cron: Cron) -> str | None:
    sec, minute, hour = cron.fields[:3]
    if (minute, hour) == ("*", "*"):
        every = _every(sec, "second")
        return every if every else ("Every minute" if len(cron.seconds) == 1 else None)
    if len(cron.seconds) != 1 or hour != "*":
        return _hourly_steps(cron)
    if len(cron.minutes) == 1:
        return f"Every hour at minute {cron.minutes[0]}"
    return _every(minute, "minute")


def _hourly_steps(cron: Cron) -> str | None:
    step = _STEP.match(cron.fields[2])
    if len(cron.seconds) != 1 or len(cron.minutes) != 1 or not step or 24 % int(step[2]):
        return None
    return f"Every {step[2]} hours at minute {cron.minutes[0]}"


def _every(field: str, unit: str) -> str | None:
    if field == "*":
        return f"Every {unit}"
    step = _STEP.match(field)
    if not step or 60 % int(step[2]):
        return None
    return f"Every {step[2]} {unit}s"


def _times(cron: Cron) -> str | None:
    if len(cron.seconds) != 1 or len(cron.minutes) != 1 or len(cron.hours) > 6:
        return None
    second, minute = cron.seconds[0], cron.minutes[0]
    tail = f":{second:02d}" if second else ""
    return "At " + _join([f"{h:02d}:{minute:02d}{tail}" for h in cron.hours])


def _days(cron: Cron) -> str | None:
    """' on Monday', ' on day 1 of the month', ' in January', '' for every day; None if unusual."""
    day_field, month_field, weekday_field = cron.fields[3:]
    months = _months(cron) if month_field != "*" else ""
    if day_field == "*" and weekday_field == "*":
        return f" in {months}" if months else ""
    if day_field == "*" and len(cron.weekdays) < 7:
        return f" on {_weekdays(cron)}" + (f" in {months}" if months else "")
    if weekday_field == "*" and day_field.replace(",", "").isdigit():
        days = sorted(cron.days)
        label = "day" if len(days) == 1 else "days"
        return f" on {label} {_join([str(d) for d in days])} of {months or 'the month'}"
    return None


def _weekdays(cron: Cron) -> str:
    days = sorted(cron.weekdays, key=lambda d: (d + 6) % 7)  # Monday first
    monday_first = [(d + 6) % 7 for d in days]
    if len(days) >= 3 and monday_first == list(range(monday_first[0], monday_first[-1] + 1)):
        return f"{_DAY_NAMES[days[0]]} through {_DAY_NAMES[days[-1]]}"
    return _join([_DAY_NAMES[d] for d in days])


def _months(cron: Cron) -> str:
    return _join([_MONTH_NAMES[m - 1] for m in sorted(cron.months)])


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
