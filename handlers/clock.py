"""Time as the handlers see it: injectable, so tests move the clock instead of sleeping.

One convention: moments are stored and compared in UTC; days and times are shown, typed and
counted in the province's time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]
LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def system_clock() -> datetime:
    return datetime.now(UTC)


def local_day(moment: datetime) -> date:
    """The calendar day in the province at a moment: stored times are UTC, days are local."""
    return moment.astimezone(LOCAL_ZONE).date()


def local_date_text(moment: datetime) -> str:
    """A date and time as citizens read it (dd/mm/yyyy hh:mm, Vietnam time)."""
    return moment.astimezone(LOCAL_ZONE).strftime("%d/%m/%Y %H:%M")
