"""Time as the handlers see it: injectable, so tests move the clock instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]
LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def system_clock() -> datetime:
    return datetime.now(UTC)


def local_date_text(moment: datetime) -> str:
    """A date and time as citizens read it (dd/mm/yyyy hh:mm, Vietnam time)."""
    return moment.astimezone(LOCAL_ZONE).strftime("%d/%m/%Y %H:%M")


def local_today(moment: datetime) -> date:
    """The day in Vietnam: what validity dates in the directory are compared with."""
    return moment.astimezone(LOCAL_ZONE).date()
