"""describe(): a schedule in words for the web UI."""

from __future__ import annotations

import pytest

from sparkjobs import schedules


@pytest.mark.parametrize(
    ("cron", "tz", "words"),
    [
        ("0 2 * * *", "Europe/Berlin", "At 02:00, Europe/Berlin"),
        ("*/15 * * * *", "Europe/Berlin", "Every 15 minutes"),
        ("* * * * *", "UTC", "Every minute"),
        ("*/10 * * * * *", "UTC", "Every 10 seconds"),
        ("* * * * * *", "UTC", "Every second"),
        ("@hourly", "UTC", "Every hour at minute 0"),
        ("0 */6 * * *", "UTC", "Every 6 hours at minute 0, UTC"),
        ("0 2 * * 1", "UTC", "At 02:00 on Monday, UTC"),
        ("0 2 * * MON", "UTC", "At 02:00 on Monday, UTC"),
        ("0 9 * * 1-5", "America/New_York", "At 09:00 on Monday through Friday, America/New_York"),
        ("0 0 ? * SAT,SUN", "UTC", "At 00:00 on Saturday and Sunday, UTC"),
        ("0 0 1 * *", "UTC", "At 00:00 on day 1 of the month, UTC"),
        ("@monthly", "UTC", "At 00:00 on day 1 of the month, UTC"),
        ("0 0 1,15 * *", "UTC", "At 00:00 on days 1 and 15 of the month, UTC"),
        ("@yearly", "UTC", "At 00:00 on day 1 of January, UTC"),
        ("@weekly", "UTC", "At 00:00 on Sunday, UTC"),
        ("30 6,12,18 * * *", "UTC", "At 06:30, 12:30 and 18:30, UTC"),
        ("15 30 6 * * *", "UTC", "At 06:30:15, UTC"),
        ("5 4 * 1 *", "UTC", "At 04:05 in January, UTC"),
        # Shapes without good words fall back to the cron text.
        ("*/7 * * * *", "UTC", "cron */7 * * * *, UTC"),
        ("0 2 1-7 * 1", "UTC", "cron 0 2 1-7 * 1, UTC"),
        ("0-30/10 1-3 * * *", "UTC", "cron 0-30/10 1-3 * * *, UTC"),
    ],
)
def test_describe(cron: str, tz: str, words: str) -> None:
    assert schedules.describe(schedules.ScheduleSpec(cron=cron, timezone=tz)) == words
