"""Cron expressions: parsed once into the set of values each field allows.

Accepted: 5 fields (minute hour day-of-month month day-of-week), or 6 with
seconds first as Quartz and Spring write them, or a macro (@hourly, @daily,
@midnight, @weekly, @monthly, @yearly, @annually). Each field is a list of
``*``, ``N``, ``N-M``, with an optional ``/STEP`` (``*/15``, ``5-50/5``, ``10/15``).
Months and days of the week also take names (JAN-DEC, SUN-SAT). Day of week
counts as Unix and Spring do (0 or 7 is Sunday), not as Quartz (1 is Sunday).
Quartz's ``?`` ("no specific value") is read as ``*`` in the two day fields;
Quartz's L, W and # are refused with a message, not silently misread.

When both day fields are restricted a day matches either of them, as in every
Unix cron (a field starting with ``*`` counts as unrestricted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

MACROS: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
#: The longest each month can be (February in a leap year).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ITEM = re.compile(r"^(?P<base>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    #: Value of names[0]; months count from 1, days of the week from 0.
    names_from: int = 0


SECOND = _Field("second", 0, 59)
MINUTE = _Field("minute", 0, 59)
HOUR = _Field("hour", 0, 23)
DAY = _Field("day-of-month", 1, 31)
MONTH = _Field("month", 1, 12, _MONTHS, 1)
WEEKDAY = _Field("day-of-week", 0, 7, _DAYS, 0)


@dataclass(frozen=True, kw_only=True)
class Cron:
    """A parsed cron expression: sorted allowed values per field."""

    text: str
    #: The five or six fields after expanding a macro, seconds first ("0" if not given).
    fields: tuple[str, str, str, str, str, str]
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    #: 0 = Sunday ... 6 = Saturday (7 is folded into 0).
    weekdays: frozenset[int]
    days_star: bool
    weekdays_star: bool

    def day_matches(self, day: date) -> bool:
        in_days = day.day in self.days
        in_weekdays = day.isoweekday() % 7 in self.weekdays
        if self.days_star or self.weekdays_star:
            return in_days and in_weekdays
        return in_days or in_weekdays

    @property
    def every_hour(self) -> bool:
        """True when the schedule fires in every hour of the day (an interval schedule)."""
        return len(self.hours) == 24


@lru_cache(maxsize=4096)
def parse(text: str) -> Cron:
    """Parse a cron expression; raise ValueError saying which field is wrong and why."""
    expanded = _expand_macro(text.strip())
    parts = expanded.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    elif len(parts) != 6:
        raise ValueError(f"cron must have 5 fields (or 6 with seconds first), got {len(parts)}")
    sec, minute, hour, day, month, weekday = parts
    day, weekday = _quartz_any(day), _quartz_any(weekday)
    cron = Cron(
        text=text,
        fields=(sec, minute, hour, day, month, weekday),
        seconds=tuple(sorted(_values(sec, SECOND))),
        minutes=tuple(sorted(_values(minute, MINUTE))),
        hours=tuple(sorted(_values(hour, HOUR))),
        days=frozenset(_values(day, DAY)),
        months=frozenset(_values(month, MONTH)),
        weekdays=frozenset(v % 7 for v in _values(weekday, WEEKDAY)),
        days_star=day.startswith("*"),
        weekdays_star=weekday.startswith("*"),
    )
    _check_possible(cron)
    return cron


def _expand_macro(text: str) -> str:
    if not text.startswith("@"):
        return text
    try:
        return MACROS[text.lower()]
    except KeyError:
        known = ", ".join(MACROS)
        raise ValueError(f"cron macro '{text}' is not supported; use one of {known}") from None


def _quartz_any(text: str) -> str:
    return "*" if text == "?" else text


def _values(text: str, field: _Field) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        values |= _item_values(item, field)
    return values


def _item_values(item: str, field: _Field) -> set[int]:
    match = _ITEM.match(item)
    if not match:
        raise ValueError(_bad_item(item, field))
    base, step_text = match["base"], match["step"]
    step = int(step_text) if step_text else 1
    if step < 1:
        raise ValueError(f"cron {field.name} step in '{item}' must be at least 1")
    if base == "*":
        low, high = field.low, field.high
    elif "-" in base:
        low, high = (_number(p, field) for p in base.split("-"))
        if low > high:
            raise ValueError(f"cron {field.name} range '{base}' must go from low to high")
    else:
        low = _number(base, field)
        # "10/15" (Quartz): from 10 to the end of the range in steps of 15.
        high = field.high if step_text else low
    return set(range(low, high + 1, step))


def _number(text: str, field: _Field) -> int:
    upper = text.upper()
    if upper in field.names:
        return field.names.index(upper) + field.names_from
    if not text.isdigit():
        raise ValueError(_bad_item(text, field))
    value = int(text)
    if not field.low <= value <= field.high:
        raise ValueError(f"cron {field.name} {value} is out of range {field.low}-{field.high}")
    return value


def _bad_item(item: str, field: _Field) -> str:
    if field in (DAY, WEEKDAY) and any(c in item.upper() for c in "LW#"):
        return (
            f"cron {field.name} '{item}' uses Quartz's L, W or #, which sparkjobs does not "
            "support; list the days instead"
        )
    hint = f" or a name such as {field.names[0]}" if field.names else ""
    return (
        f"cron {field.name} '{item}' is not valid; use *, a number {field.low}-{field.high}"
        f"{hint}, a range N-M, a list N,M or a step */N"
    )


def _check_possible(cron: Cron) -> None:
    """Refuse expressions that can never fire, such as February 30."""
    if not cron.days_star and not cron.weekdays_star:
        return  # either day field may match, and every month has every weekday
    # Every valid (month, day) falls on each weekday in some year, so only the
    # month lengths can make an expression impossible.
    if not any(d <= _MONTH_DAYS[m - 1] for m in cron.months for d in cron.days):
        raise ValueError(
            f"cron '{cron.text}' never fires: no chosen month has the chosen day-of-month"
        )
