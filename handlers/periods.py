"""Reading a reporting period: "month", "quarter", "half", "year", "2026-11", "2026-Q3",
"2026-H1", "2026", "2026-01-01..2026-03-31" (Vietnamese words too: "thang", "quy", "nua nam",
"nam").

Months, quarters, half-years and years are reporting periods: with a cut-off day (Decree
09/2019/NĐ-CP on the reporting regime of state administrative bodies: 15) a period runs from that
day of the month before its first month to the day before it in its last month, so 2026-Q3 is
15 June–14 September and the year 2026 is 15 December 2025–14 December 2026; without one
(`cutoff=None`) they are calendar periods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from handlers.clock import LOCAL_ZONE
from handlers.textmatch import fold

DECREE_09_CUTOFF = 15
"""The reporting cut-off day of Decree 09/2019/NĐ-CP, the default of `REPORTING_CUTOFF_DAY`."""
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?q([1-4])$|^q([1-4])-?(\d{4})$")
_HALF = re.compile(r"^(\d{4})-?h([12])$")
_YEAR = re.compile(r"^(\d{4})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|to|den)\s*(\d{4}-\d{2}-\d{2})$")
_UNITS = {
    "month": 1,
    "thang": 1,
    "quarter": 3,
    "quy": 3,
    "half": 6,
    "nuanam": 6,
    "year": 12,
    "nam": 12,
}


@dataclass(frozen=True, slots=True)
class Span:
    """A run of whole reporting months: the first month, how many, and the cut-off day (None
    for calendar months)."""

    year: int
    month: int
    months: int
    cutoff: int | None

    def shifted(self, months: int) -> Span:
        index = self.year * 12 + self.month - 1 + months
        return Span(index // 12, index % 12 + 1, self.months, self.cutoff)

    @property
    def code(self) -> str:
        """The text `parse_period` reads back as this span: 2026-11, 2026-Q3, 2026-H1, 2026."""
        if self.months == 1:
            return f"{self.year}-{self.month:02d}"
        if self.months == 3:
            return f"{self.year}-Q{(self.month + 2) // 3}"
        if self.months == 6:
            return f"{self.year}-H{(self.month + 5) // 6}"
        return str(self.year)

    def period(self) -> Period:
        last = self.shifted(self.months - 1)
        if self.cutoff is None:
            after = last.shifted(1)
            end = date(after.year, after.month, 1) - timedelta(days=1)
            return Period(date(self.year, self.month, 1), end, self)
        before = self.shifted(-1)
        start = date(before.year, before.month, self.cutoff)
        return Period(start, date(last.year, last.month, self.cutoff) - timedelta(days=1), self)


@dataclass(frozen=True, slots=True)
class Period:
    """Whole local days, both ends included; `span` when it is a month, quarter, half-year or
    year, so the periods before it are the same kind."""

    start: date
    end: date
    span: Span | None = field(default=None, compare=False)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period just before: the previous month, quarter… or the same length of days."""
        if self.span is not None:
            return self.span.shifted(-self.span.months).period()
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def year_before(self) -> Period:
        """The same period a year earlier."""
        if self.span is not None:
            return self.span.shifted(-12).period()
        return Period(_a_year_before(self.start), _a_year_before(self.end))

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants [from, to), for rows stamped with a time."""
        first = datetime.combine(self.start, time(0), LOCAL_ZONE).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(days=1), time(0), LOCAL_ZONE)
        return first, after.astimezone(UTC)

    def label(self) -> str:
        return f"{self.start:%d/%m/%Y}–{self.end:%d/%m/%Y}"


def _a_year_before(day: date) -> date:
    return day.replace(year=day.year - 1, day=28 if (day.month, day.day) == (2, 29) else day.day)


def _current(today: date, months: int, cutoff: int | None) -> Span:
    """The reporting period of `months` months that today falls in."""
    month = Span(today.year, today.month, 1, cutoff)
    if cutoff is not None and today.day >= cutoff:
        month = month.shifted(1)
    first = (month.month - 1) // months * months + 1
    return Span(month.year, first, months, cutoff)


def period_from(start: date, end: date, cutoff: int | None) -> Period:
    """A period read back from its days (a file request carries only those): the reporting or
    calendar month, quarter, half-year or year it is, so the periods before it are the same
    kind; else the days themselves."""
    days = Period(start, end)
    for months in (1, 3, 6, 12):
        for kind in dict.fromkeys((cutoff, None)):
            candidate = _current(end, months, kind).period()
            if candidate == days:
                return candidate
    return days


def latest_complete(today: date, cutoff: int | None) -> Period:
    """The latest reporting month that has ended before today: its figures are complete."""
    return _current(today, 1, cutoff).shifted(-1).period()


RECENT = {1: 12, 3: 4, 6: 2, 12: 2}
"""How many ended months, quarters, half-years and years the public page offers."""


def recent_periods(today: date, cutoff: int | None) -> list[Period]:
    """The ended reporting periods to choose from, newest first within each kind."""
    chosen: list[Period] = []
    for months, count in RECENT.items():
        newest = _current(today, months, cutoff).shifted(-months)
        chosen += [newest.shifted(-months * n).period() for n in range(count)]
    return chosen


def month_of(day: date) -> Period:
    """The calendar month a day falls in."""
    return Span(day.year, day.month, 1, None).period()


def last_full_month(today: date) -> Period:
    """The calendar month before today's: the latest whose figures are complete."""
    return month_of(today.replace(day=1) - timedelta(days=1))


def parse_period(text: str, today: date, cutoff: int | None = None) -> Period | None:
    """The period a text names, or None if it names none (years 2000 to 2100 only)."""
    period = _parse(text, today, cutoff)
    if period is None or not (period.start.year >= 2000 and period.end.year <= 2100):
        return None
    return period


def looks_like_day(text: str) -> bool:
    """Whether a word is written as a day ("2025-13-01" too): one that is not a real day is
    a mistyped day, not an agency code."""
    return bool(_DAY.match(text.strip()))


def parse_day(text: str) -> date | None:
    """The day a word names in full ("2025-06-30"), or None (years 2000 to 2100 only)."""
    if not looks_like_day(text):
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


def _parse(text: str, today: date, cutoff: int | None) -> Period | None:
    word = fold(text).replace(" ", "")
    if not word:
        return _current(today, 1, cutoff).period()
    if word in _UNITS:
        return _current(today, _UNITS[word], cutoff).period()
    try:
        if match := _MONTH.match(word):
            if not 1 <= int(match[2]) <= 12:
                return None
            return Span(int(match[1]), int(match[2]), 1, cutoff).period()
        if match := _QUARTER.match(word):
            year, quarter = (match[1], match[2]) if match[1] else (match[4], match[3])
            return Span(int(year), 3 * int(quarter) - 2, 3, cutoff).period()
        if match := _HALF.match(word):
            return Span(int(match[1]), 6 * int(match[2]) - 5, 6, cutoff).period()
        if match := _YEAR.match(word):
            return Span(int(match[1]), 1, 12, cutoff).period()
        if match := _RANGE.match(fold(text)):
            start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            return Period(start, end) if start <= end else None
    except (ValueError, OverflowError):
        return None
    return None
