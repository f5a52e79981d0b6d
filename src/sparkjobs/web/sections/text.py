"""Reading typed text: lines, key = value pairs, whole numbers, durations."""

from __future__ import annotations

import re
from typing import Any

from sparkjobs.web.forms import Errors, Values

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def lines(text: str) -> list[str]:
    """One item per line, kept verbatim; only the final line end is dropped."""
    return text.removesuffix("\n").split("\n") if text else []


def pairs(text: str, name: str, errs: Errors) -> dict[str, str]:
    """'key = value' lines into a dict; blank lines are skipped."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            errs.add(name, f"line {number}: write it as key = value")
        elif key in found:
            errs.add(name, f"line {number}: '{key}' is given twice")
        else:
            found[key] = value.strip()
    return found


def show_pairs(values: dict[str, str]) -> str:
    return "\n".join(f"{k} = {v}" for k, v in values.items())


def whole(values: Values, name: str, errs: Errors, *, low: int = 0) -> int | None:
    """A whole number, or None when left empty."""
    text = values.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < low:
        errs.add(name, f"write a whole number of at least {low}")
        return None
    return int(text)


def seconds(values: Values, name: str, errs: Errors) -> int | None:
    """Seconds, from '600', '600s', '10m', '2h' or '1d'; None when left empty."""
    text = values.get(name, "").strip()
    if not text:
        return None
    match = _DURATION.match(text.lower())
    if match is None:
        errs.add(name, "write a number of seconds, or a number with m, h or d (10m, 2h)")
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def optional(values: Values, name: str) -> str | None:
    return values.get(name, "").strip() or None


def text_of(value: object) -> str:
    return "" if value is None else str(value)


def present(**items: Any) -> dict[str, Any]:
    return {k: v for k, v in items.items() if v is not None}
