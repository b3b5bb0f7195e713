"""Reading a reporting period: "month", "quarter", "year", "2026-11", "2026-Q3", "2026",
"2026-01-01..2026-03-31" (Vietnamese words too: "thang", "quy", "nam")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from handlers.clock import LOCAL_ZONE
from handlers.textmatch import fold

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?q([1-4])$|^q([1-4])-?(\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|to|den)\s*(\d{4}-\d{2}-\d{2})$")
_WORDS = {
    "month": "month",
    "thang": "month",
    "quarter": "quarter",
    "quy": "quarter",
    "year": "year",
    "nam": "year",
}


@dataclass(frozen=True, slots=True)
class Period:
    """Whole local days, both ends included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants [from, to), for rows stamped with a time."""
        first = datetime.combine(self.start, time(0), LOCAL_ZONE).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(days=1), time(0), LOCAL_ZONE)
        return first, after.astimezone(UTC)

    def label(self) -> str:
        return f"{self.start:%d/%m/%Y}–{self.end:%d/%m/%Y}"


def _month(year: int, month: int) -> Period:
    start = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(start, following - timedelta(days=1))


def month_of(day: date) -> Period:
    """The calendar month a day falls in."""
    return _month(day.year, day.month)


def last_full_month(today: date) -> Period:
    """The month before today's: the latest whose figures are complete."""
    return month_of(today.replace(day=1) - timedelta(days=1))


def _quarter(year: int, quarter: int) -> Period:
    first = _month(year, 3 * quarter - 2)
    return Period(first.start, _month(year, 3 * quarter).end)


def parse_period(text: str, today: date) -> Period | None:
    """The period a text names, or None if it names none (years 2000 to 2100 only)."""
    period = _parse(text, today)
    if period is None or not (period.start.year >= 2000 and period.end.year <= 2100):
        return None
    return period


def _parse(text: str, today: date) -> Period | None:
    word = fold(text).replace(" ", "")
    if not word or _WORDS.get(word) == "month":
        return _month(today.year, today.month)
    if _WORDS.get(word) == "quarter":
        return _quarter(today.year, (today.month - 1) // 3 + 1)
    if _WORDS.get(word) == "year":
        return Period(date(today.year, 1, 1), date(today.year, 12, 31))
    try:
        if match := _MONTH.match(word):
            return _month(int(match[1]), int(match[2]))
        if match := _QUARTER.match(word):
            year, quarter = (match[1], match[2]) if match[1] else (match[4], match[3])
            return _quarter(int(year), int(quarter))
        if match := _YEAR.match(word):
            return Period(date(int(match[1]), 1, 1), date(int(match[1]), 12, 31))
        if match := _RANGE.match(fold(text)):
            start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            return Period(start, end) if start <= end else None
    except ValueError:
        return None
    return None
