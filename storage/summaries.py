"""Aggregates for the indicators, computed in SQL: rating sums from the daily roll-ups, and
counts and medians over reports, cases, commendations and reassignments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Float, Integer, Select, and_, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    Assignment,
    Case,
    Commendation,
    Official,
    RatingDaily,
    Report,
    Service,
)
from storage.rollups import SUMMED


def _sums() -> list[ColumnElement[Any]]:
    return [cast(func.sum(getattr(RatingDaily, n)), Integer).label(n) for n in SUMMED]


def _where(
    start: date, end: date, agency_ids: Sequence[int] | None, sector: str | None
) -> ColumnElement[bool]:
    condition = and_(RatingDaily.day >= start, RatingDaily.day <= end)
    if agency_ids is not None:
        condition = and_(condition, RatingDaily.agency_id.in_(agency_ids))
    if sector is not None:
        of_sector = select(Service.id).where(Service.sector == sector)
        condition = and_(condition, RatingDaily.service_id.in_(of_sector))
    return condition


async def rating_sums(
    start: date,
    end: date,
    *,
    by: str | None,
    agency_ids: Sequence[int] | None = None,
    sector: str | None = None,
    session: AsyncSession,
) -> dict[int | None, dict[str, int]]:
    """Roll-up sums per agency (`by="agency"`), per service, or overall (`by=None`), of the
    services of one sector or (`sector=None`) of all."""
    key: ColumnElement[Any] = (
        RatingDaily.agency_id
        if by == "agency"
        else RatingDaily.service_id
        if by == "service"
        else literal(None)
    )
    query: Select[Any] = select(key.label("key"), *_sums()).where(
        _where(start, end, agency_ids, sector)
    )
    if by is not None:
        query = query.group_by(key)
    rows = (await session.execute(query)).mappings().all()
    return {row["key"]: {n: row[n] or 0 for n in SUMMED} for row in rows if row["ratings"]}


def total(sums: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Sums added up (the province from its agencies), sparing a second scan of the roll-ups."""
    added = dict.fromkeys(SUMMED, 0)
    for part in sums:
        for name in SUMMED:
            added[name] += part[name]
    return added


async def monthly_sums(
    start: date,
    end: date,
    *,
    agency_ids: Sequence[int] | None = None,
    sector: str | None = None,
    session: AsyncSession,
) -> dict[str, dict[str, int]]:
    """Roll-up sums per month ("2026-11") of one sector's services or of all, for the trend
    chart."""
    if session.bind.dialect.name == "postgresql":
        month = func.to_char(RatingDaily.day, "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", RatingDaily.day)
    query = (
        select(month.label("month"), *_sums())
        .where(_where(start, end, agency_ids, sector))
        .group_by(month)
        .order_by(month)
    )
    rows = (await session.execute(query)).mappings().all()
    return {row["month"]: {n: row[n] or 0 for n in SUMMED} for row in rows}


async def report_counts(
    start: datetime, end: datetime, *, agency_ids: Sequence[int] | None, session: AsyncSession
) -> dict[tuple[int, str], int]:
    """Reports per (agency where it happened, category) in the period."""
    query = (
        select(Report.agency_id, Report.category, func.count())
        .where(Report.created_at >= start, Report.created_at < end)
        .group_by(Report.agency_id, Report.category)
    )
    if agency_ids is not None:
        query = query.where(Report.agency_id.in_(agency_ids))
    return {(a, c): n for a, c, n in (await session.execute(query)).all()}


async def commendation_counts(
    start: datetime, end: datetime, *, agency_ids: Sequence[int] | None, session: AsyncSession
) -> dict[int, int]:
    query = (
        select(Commendation.agency_id, func.count())
        .where(Commendation.created_at >= start, Commendation.created_at < end)
        .group_by(Commendation.agency_id)
    )
    if agency_ids is not None:
        query = query.where(Commendation.agency_id.in_(agency_ids))
    return {a: n for a, n in (await session.execute(query)).all()}


@dataclass(frozen=True, slots=True)
class CaseFigures:
    cases: int = 0
    open: int = 0
    overdue: int = 0
    median_days_to_acknowledge: float | None = None
    median_days_to_decide: float | None = None
    reassignments: int = 0


def _days(later: Any, earlier: Any, dialect: str) -> ColumnElement[float]:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return cast(func.julianday(later) - func.julianday(earlier), Float)


POOLED = 0
"""The key of figures over every agency in scope at once (`pooled=True`)."""


async def _medians(
    done_at: Any,
    start: datetime,
    end: datetime,
    agency_ids: Sequence[int] | None,
    pooled: bool,
    session: AsyncSession,
) -> dict[int, float]:
    """Median days from opening to `done_at`, per agency or pooled, with window functions."""
    days = _days(done_at, Case.created_at, session.bind.dialect.name).label("days")
    key = literal(POOLED) if pooled else Case.agency_id
    inner = select(key.label("key"), days).where(
        Case.created_at >= start, Case.created_at < end, done_at.is_not(None)
    )
    if agency_ids is not None:
        inner = inner.where(Case.agency_id.in_(agency_ids))
    spans = inner.subquery()
    ranked = select(
        spans.c.key,
        spans.c.days,
        func.row_number().over(partition_by=spans.c.key, order_by=spans.c.days).label("n"),
        func.count().over(partition_by=spans.c.key).label("total"),
    ).subquery()
    middle = or_(ranked.c.n == (ranked.c.total + 1) // 2, ranked.c.n == (ranked.c.total + 2) // 2)
    query = select(ranked.c.key, func.avg(ranked.c.days)).where(middle).group_by(ranked.c.key)
    return {a: float(d) for a, d in (await session.execute(query)).all()}


async def case_figures(
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    open_states: Sequence[str],
    agency_ids: Sequence[int] | None,
    pooled: bool = False,
    session: AsyncSession,
) -> dict[int, CaseFigures]:
    """For cases opened in the period, per handling agency (or all together under `POOLED`):
    how many, still open, overdue, median days to acknowledge and to decide; officials
    reassigned in the period."""
    is_open = Case.state.in_(open_states)
    overdue = and_(
        is_open,
        or_(
            and_(Case.acknowledged_at.is_(None), Case.ack_due < now),
            and_(Case.decided_at.is_(None), Case.decide_due < now),
        ),
    )
    case_key = literal(POOLED) if pooled else Case.agency_id
    query = (
        select(
            case_key,
            func.count(),
            func.sum(cast(is_open, Integer)),
            func.sum(cast(overdue, Integer)),
        )
        .where(Case.created_at >= start, Case.created_at < end)
        .group_by(case_key)
    )
    if agency_ids is not None:
        query = query.where(Case.agency_id.in_(agency_ids))
    counts = {a: (n, o or 0, d or 0) for a, n, o, d in (await session.execute(query)).all()}
    to_ack = await _medians(Case.acknowledged_at, start, end, agency_ids, pooled, session)
    to_decide = await _medians(Case.decided_at, start, end, agency_ids, pooled, session)
    official_key = literal(POOLED) if pooled else Official.agency_id
    moved = (
        select(official_key, func.count(func.distinct(Assignment.official_id)))
        .select_from(Official)
        .join(Assignment, Assignment.official_id == Official.id)
        .where(Assignment.recorded_at >= start, Assignment.recorded_at < end)
        .group_by(official_key)
    )
    if agency_ids is not None:
        moved = moved.where(Official.agency_id.in_(agency_ids))
    reassigned = {a: n for a, n in (await session.execute(moved)).all()}
    agencies = set(counts) | set(reassigned)
    return {
        a: CaseFigures(
            *counts.get(a, (0, 0, 0)), to_ack.get(a), to_decide.get(a), reassigned.get(a, 0)
        )
        for a in agencies
    }


@dataclass(frozen=True, slots=True)
class OnTime:
    """Of the cases opened in a period whose deadline has come (or that were done before it):
    how many, and how many were acknowledged, or answered, by their deadline."""

    ack_due: int = 0
    ack_on_time: int = 0
    answer_due: int = 0
    answer_on_time: int = 0


async def on_time_counts(
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    agency_ids: Sequence[int] | None,
    session: AsyncSession,
) -> OnTime:
    """Acknowledgements and answers (a decision, or closing with an explanation) on time, for
    cases opened in the period; an extended deadline counts as the deadline."""
    found = await _on_time(start, end, now, literal(POOLED), agency_ids, session)
    return found.get(POOLED, OnTime())


async def on_time_by_agency(
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    agency_ids: Sequence[int] | None,
    session: AsyncSession,
) -> dict[int, OnTime]:
    """`on_time_counts` for each handling agency apart (the public page's handling table)."""
    return await _on_time(start, end, now, Case.agency_id, agency_ids, session)


async def _on_time(
    start: datetime,
    end: datetime,
    now: datetime,
    key: ColumnElement[Any],
    agency_ids: Sequence[int] | None,
    session: AsyncSession,
) -> dict[int, OnTime]:
    answered_at = func.coalesce(Case.decided_at, Case.closed_at)

    def counted(done: ColumnElement[Any], due: ColumnElement[Any]) -> list[ColumnElement[Any]]:
        judged = or_(done.is_not(None), due <= now)
        in_time = and_(done.is_not(None), done <= due)
        return [func.sum(cast(judged, Integer)), func.sum(cast(in_time, Integer))]

    query = (
        select(
            key.label("key"),
            *counted(Case.acknowledged_at, Case.ack_due),
            *counted(answered_at, Case.decide_due),
        )
        .where(Case.created_at >= start, Case.created_at < end)
        .group_by(key)
    )
    if agency_ids is not None:
        query = query.where(Case.agency_id.in_(agency_ids))
    rows = (await session.execute(query)).all()
    return {row[0]: OnTime(*(value or 0 for value in row[1:])) for row in rows}
