"""Reports, cases, their timeline, evidence and reviews. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Case, CaseEvent, Evidence, Report, Review


async def add(row: Report | Case | CaseEvent | Review, *, session: AsyncSession) -> None:
    session.add(row)
    await session.flush()


async def report_by_receipt(receipt: str, *, session: AsyncSession) -> Report | None:
    return await session.scalar(select(Report).where(Report.receipt == receipt))


async def case_of_report(report_id: int, *, session: AsyncSession) -> Case | None:
    return await session.scalar(select(Case).where(Case.report_id == report_id))


async def case_by_id(case_id: int, *, session: AsyncSession) -> Case | None:
    return await session.get(Case, case_id)


async def report_by_id(report_id: int, *, session: AsyncSession) -> Report | None:
    return await session.get(Report, report_id)


async def reports_of(citizen_id: int, *, session: AsyncSession) -> list[tuple[Report, Case]]:
    rows = await session.execute(
        select(Report, Case)
        .join(Case, Case.report_id == Report.id)
        .where(Report.citizen_id == citizen_id)
        .order_by(Report.id.desc())
    )
    return [(report, case) for report, case in rows.all()]


async def open_cases(
    agency_ids: Sequence[int] | None, open_states: Sequence[str], *, session: AsyncSession
) -> list[Case]:
    """Open cases of the agencies (all agencies when None), the nearest deadline first."""
    query = select(Case).where(Case.state.in_(open_states))
    if agency_ids is not None:
        query = query.where(Case.agency_id.in_(agency_ids))
    next_due = case((Case.acknowledged_at.is_(None), Case.ack_due), else_=Case.decide_due)
    query = query.order_by(next_due, Case.id)
    return list((await session.scalars(query)).all())


async def events_of(case_id: int, *, session: AsyncSession) -> list[CaseEvent]:
    rows = await session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    )
    return list(rows.all())


async def distinct_reporters(official_id: int, since: datetime, *, session: AsyncSession) -> int:
    """How many different citizens reported this official since a moment."""
    return (
        await session.scalar(
            select(func.count(func.distinct(Report.citizen_id))).where(
                Report.official_id == official_id, Report.created_at >= since
            )
        )
    ) or 0


async def open_review(official_id: int, *, session: AsyncSession) -> Review | None:
    return await session.scalar(
        select(Review).where(Review.official_id == official_id, Review.decided_at.is_(None))
    )


async def last_review_decided(official_id: int, *, session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.max(Review.decided_at)).where(Review.official_id == official_id)
    )


async def review_by_id(review_id: int, *, session: AsyncSession) -> Review | None:
    return await session.get(Review, review_id)


async def staged_evidence(owner: str, *, session: AsyncSession) -> list[Evidence]:
    rows = await session.scalars(
        select(Evidence).where(Evidence.staged_by == owner).order_by(Evidence.id)
    )
    return list(rows.all())


async def attach_staged_evidence(owner: str, report_id: int, *, session: AsyncSession) -> None:
    await session.execute(
        update(Evidence)
        .where(Evidence.staged_by == owner)
        .values(report_id=report_id, staged_by=None)
    )


async def drop_staged_evidence(owner: str, *, session: AsyncSession) -> None:
    await session.execute(delete(Evidence).where(Evidence.staged_by == owner))


async def evidence_of(report_id: int, *, session: AsyncSession) -> list[Evidence]:
    rows = await session.scalars(select(Evidence).where(Evidence.report_id == report_id))
    return list(rows.all())


async def open_reviews(*, session: AsyncSession) -> list[Review]:
    rows = await session.scalars(select(Review).where(Review.decided_at.is_(None)))
    return list(rows.all())
