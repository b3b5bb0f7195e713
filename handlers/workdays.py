"""Working days in Vietnam: weekends and public holidays (the `holidays` package) do not count."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache

import holidays

from handlers.clock import LOCAL_ZONE


@cache
def _vietnam() -> holidays.HolidayBase:
    return holidays.country_holidays("VN")


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _vietnam()


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment `days` working days after `start`, at the end of that local working day.

    A deadline falls at 17:00 Vietnam time, so an item that arrives on a Friday evening is due
    at the close of the days that follow, not at an odd hour.
    """
    day = start.astimezone(LOCAL_ZONE).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return datetime.combine(day, time(17, 0), LOCAL_ZONE)


def working_day_before(deadline: datetime) -> datetime:
    """One working day before a deadline: when the reminder is due."""
    day = deadline.astimezone(LOCAL_ZONE).date()
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(
        day, deadline.astimezone(LOCAL_ZONE).timetz().replace(tzinfo=None), LOCAL_ZONE
    )


def reminders_horizon(now: datetime) -> datetime:
    """A bound for querying deadlines: any deadline whose reminder is due at `now` falls before
    it (by the next working day's end), so only the few rows under it need `working_day_before`."""
    last_day = add_working_days(now, 1).astimezone(LOCAL_ZONE).date() + timedelta(days=1)
    return datetime.combine(last_day, time(0, 0), LOCAL_ZONE)
