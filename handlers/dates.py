"""Reading a day typed by a citizen: 5/3/2026, 05-03-2026, 5.3.2026 or 5/3 (this year)."""

from __future__ import annotations

import re
from datetime import date

_DAY = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{4}))?\s*$")


def parse_day(text: str, today: date) -> date | None:
    """The date typed, or None if it is not a real day in day/month[/year] order."""
    match = _DAY.match(text)
    if match is None:
        return None
    day, month = int(match.group(1)), int(match.group(2))
    year = int(match.group(3)) if match.group(3) else today.year
    try:
        return date(year, month, day)
    except ValueError:
        return None


def day_text(day: date) -> str:
    return day.strftime("%d/%m/%Y")
