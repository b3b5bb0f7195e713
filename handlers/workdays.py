"""Working days in Vietnam: weekends and public holidays do not count, make-up Saturdays do.

The `holidays` package knows the statutory days and the Government's published swaps (a Saturday
worked to bridge a holiday); a province may add its own days off or make-up days for a year, so the
calendar takes both lists from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

import holidays

from handlers.clock import LOCAL_ZONE, local_day

CLOSE_OF_BUSINESS = time(17, 0)


@cache
def _vietnam() -> holidays.HolidayBase:
    return holidays.country_holidays("VN")


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Which days count towards a deadline: the national calendar plus the settings' own days."""

    extra_days_off: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_days:
            return True
        if day in self.extra_days_off:
            return False
        return _vietnam().is_working_day(day)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The moment `days` working days after `start`, at the end of that local working day.

        A deadline falls at 17:00 Vietnam time, so an item that arrives on a Friday evening is
        due at the close of the days that follow, not at an odd hour.
        """
        day = local_day(start)
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, CLOSE_OF_BUSINESS, LOCAL_ZONE)

    def working_day_before(self, deadline: datetime) -> datetime:
        """One working day before a deadline: when the reminder is due."""
        local = deadline.astimezone(LOCAL_ZONE)
        day = local.date() - timedelta(days=1)
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return datetime.combine(day, local.timetz().replace(tzinfo=None), LOCAL_ZONE)

    def reminders_horizon(self, now: datetime) -> datetime:
        """A bound for querying deadlines: any deadline whose reminder is due at `now` falls before
        it (by the next working day's end), so only the few rows under it need
        `working_day_before`."""
        last_day = local_day(self.add_working_days(now, 1)) + timedelta(days=1)
        return datetime.combine(last_day, time(0, 0), LOCAL_ZONE)
