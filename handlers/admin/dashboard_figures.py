"""What the admins' web dashboard shows beyond /summary: each service's indicators (filtered by
sector) and each agency's open and overdue cases. Counts only: no reporter, no report text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.admin.summary import Summary, build_summary, case_figures
from handlers.agency_groups import agency_groups
from handlers.indicators import Indicators
from handlers.names import name_of
from handlers.periods import Period
from storage import agencies, summaries


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    name: str
    sector: str
    indicators: Indicators


@dataclass(frozen=True, slots=True)
class CaseLoad:
    agency_id: int
    name: str
    group: str
    cases: int
    open: int
    overdue: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    summary: Summary
    services: list[ServiceFigures]
    """Rated services of the period, most ratings first."""
    cases: list[CaseLoad]
    """Agencies with cases opened in the period, most overdue first."""


async def dashboard(
    session: AsyncSession,
    period: Period,
    agency_ids: Sequence[int] | None,
    *,
    now: datetime,
    min_sample: int,
    locale: str,
) -> Dashboard:
    summary = await build_summary(
        session, period, agency_ids, now=now, min_sample=min_sample, locale=locale
    )
    per_service = summary.per_service  # the scope's predecessors included, as in the summary
    found = await agencies.services_by_ids([k for k in per_service if k], session=session)
    services = [
        ServiceFigures(name_of(s, locale), s.sector, Indicators.from_sums(per_service[s.id]))
        for s in found
        if s.id is not None
    ]
    services.sort(key=lambda row: -row.indicators.ratings)
    per_agency = await case_figures(session, period, now, agency_ids, pooled=False)
    with_cases = {a: f for a, f in per_agency.items() if f.cases}
    named = await agencies.agencies_by_ids(list(with_cases), session=session)
    declared = await agency_groups(locale, session=session)
    loads = [
        CaseLoad(
            a.id or 0, name_of(a, locale), declared.group_of(a), *_counts(with_cases[a.id or 0])
        )
        for a in named
    ]
    loads.sort(key=lambda row: (-row.overdue, -row.open, row.name))
    return Dashboard(summary, services, loads)


def _counts(figures: summaries.CaseFigures) -> tuple[int, int, int]:
    return figures.cases, figures.open, figures.overdue
