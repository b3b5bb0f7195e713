"""What the public results page shows: the summary of a period as the admins' /summary computes
it, and how each agency handled the reports it received, in counts only.

Nothing here names a reporter or quotes a report. A count between 1 and `min_cell - 1` is
withheld (`shown`): in a small commune "one report received" can point at the one person who
complained, so the page says "fewer than N" instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.admin.summary import Summary, build_summary, case_figures
from handlers.agency_groups import agency_groups
from handlers.names import name_of
from handlers.periods import Period
from storage import agencies, summaries


def shown(count: int, min_cell: int) -> int | None:
    """The count as the page may show it: None (withheld) when it is small but not zero."""
    return None if 0 < count < min_cell else count


@dataclass(frozen=True, slots=True)
class Handling:
    """How one agency handled the reports it received in the period (cases opened in it)."""

    agency_id: int
    name: str
    group: str
    received: int
    answered_on_time: int
    overdue: int


@dataclass(frozen=True, slots=True)
class PublicResults:
    summary: Summary
    handling: list[Handling]
    """Agencies that received reports in the period, most received first."""


async def public_results(
    session: AsyncSession, period: Period, *, now: datetime, min_sample: int, locale: str
) -> PublicResults:
    """The province's summary of `period` and each agency's handling of reports."""
    summary = await build_summary(
        session, period, None, now=now, min_sample=min_sample, locale=locale
    )
    cases = await case_figures(session, period, now, None, pooled=False)
    start, end = period.bounds()
    on_time = await summaries.on_time_by_agency(start, end, now, agency_ids=None, session=session)
    received = {a: figures for a, figures in cases.items() if figures.cases}
    declared = await agency_groups(locale, session=session)
    handling = [
        Handling(
            agency.id or 0,
            name_of(agency, locale),
            declared.group_of(agency),
            received[agency.id or 0].cases,
            on_time[agency.id].answer_on_time if agency.id in on_time else 0,
            received[agency.id or 0].overdue,
        )
        for agency in await agencies.agencies_by_ids(list(received), session=session)
    ]
    handling.sort(key=lambda row: (-row.received, row.name))
    return PublicResults(summary, handling)
