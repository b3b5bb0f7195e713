"""Reports, cases, their timeline, evidence and reviews. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, case, cast, delete, exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from storage.models import Alert, Case, CaseEvent, Evidence, Report, Review


async def add(row: Report | Case | CaseEvent | Review, *, session: AsyncSession) -> None:
    session.add(row)
    await session.flush()


async def report_by_receipt(receipt: str, *, session: AsyncSession) -> Report | None:
    return await session.scalar(select(Report).where(Report.receipt == receipt))


async def case_of_report(report_id: int, *, session: AsyncSession) -> Case | None:
    return await session.scalar(select(Case).where(Case.report_id == report_id))


async def case_by_id(case_id: int, *, session: AsyncSession) -> Case | None:
    return await session.get(Case, case_id)


async def case_for_update(case_id: int, *, session: AsyncSession) -> Case | None:
    """The case, its row locked on PostgreSQL until the transaction ends (a transition)."""
    return await session.get(Case, case_id, with_for_update=True)


async def lock(case: Case, *, session: AsyncSession) -> None:
    """Lock the case's row until the transaction ends and reload it, so a transition is judged
    on a state no one else can change meanwhile (PostgreSQL: `SELECT … FOR UPDATE`, waiting for
    a transaction that holds it). On SQLite the one writer runs transactions one at a time, so
    the case as read in this one is already current."""
    if session.bind.dialect.name == "sqlite":
        return
    await session.flush()  # a reload must not drop changes made before the transition
    await session.refresh(case, with_for_update=True)


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
) -> list[tuple[Case, Report]]:
    """Open cases of the agencies, or copied to them (all agencies when None), with their
    reports, in one query: flagged first, then the nearest deadline."""
    query = (
        select(Case, Report)
        .join(Report, Report.id == Case.report_id)
        .where(Case.state.in_(open_states))
    )
    if agency_ids is not None:
        query = query.where(Case.agency_id.in_(agency_ids) | Case.copied_to.in_(agency_ids))
    next_due = case((Case.acknowledged_at.is_(None), Case.ack_due), else_=Case.decide_due)
    query = query.order_by(Case.flagged.desc(), next_due, Case.id)
    return [(found, report) for found, report in (await session.execute(query)).all()]


async def events_of(case_id: int, *, session: AsyncSession) -> list[CaseEvent]:
    rows = await session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    )
    return list(rows.all())


async def opinion_reports(
    official_id: int, since: datetime, until: datetime, *, session: AsyncSession
) -> list[tuple[Report, Case]]:
    """Reports about the official made between two moments, with their cases, oldest first;
    a report its agency found unfounded is left out."""
    rows = await session.execute(
        select(Report, Case)
        .join(Case, Case.report_id == Report.id)
        .where(
            Report.official_id == official_id,
            Report.created_at >= since,
            Report.created_at <= until,
            Case.outcome.is_distinct_from("unfounded"),
        )
        .order_by(Report.created_at, Report.id)
    )
    return [(report, found) for report, found in rows.all()]


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


# ------------------------------------------------------------------ what the scheduler must do


def alert_subject(prefix: str, item_id: int | None, due: datetime) -> str:
    """The `Alert` subject of one deadline of a case or review; a restarted deadline is a new
    subject, so it gets its own reminder and escalation. `_subject_sql` writes the same in SQL."""
    return f"{prefix}:{item_id}:{due.astimezone(UTC):%Y%m%d%H%M}"


class _MinuteStamp(FunctionElement[str]):
    """A stored UTC moment as `%Y%m%d%H%M` text, in each dialect's words."""

    type = String()
    inherit_cache = True
    name = "minute_stamp"


@compiles(_MinuteStamp, "sqlite")
def _sqlite_minute_stamp(element: _MinuteStamp, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.strftime("%Y%m%d%H%M", *element.clauses), **kw)


@compiles(_MinuteStamp, "postgresql")
def _postgresql_minute_stamp(element: _MinuteStamp, compiler: SQLCompiler, **kw: Any) -> str:
    utc = func.timezone("UTC", *element.clauses)
    return compiler.process(func.to_char(utc, "YYYYMMDDHH24MI"), **kw)


def _subject_sql(
    prefix: str, item_id: ColumnElement[int], due: ColumnElement[datetime]
) -> ColumnElement[str]:
    return literal(f"{prefix}:") + cast(item_id, String) + literal(":") + _MinuteStamp(due)


def _unsent(subject: ColumnElement[str], kind: ColumnElement[str]) -> ColumnElement[bool]:
    return ~exists().where(Alert.subject == subject, Alert.kind == kind)


async def case_alerts_due(
    states: Sequence[str], now: datetime, horizon: datetime, *, session: AsyncSession
) -> list[tuple[int, datetime]]:
    """Cases in `states` whose current deadline (to acknowledge, then to decide) falls before
    `horizon` and whose alert for it is not sent yet: the escalation once the deadline passed,
    else the reminder. Returns each with that deadline, the earliest first."""
    waiting = Case.acknowledged_at.is_(None)
    due = case((waiting, Case.ack_due), else_=Case.decide_due)
    stage = case((waiting, literal("ack_")), else_=literal("decide_"))
    kind = stage + case((due <= now, literal("escalate")), else_=literal("remind"))
    rows = await session.execute(
        select(Case.id, due)
        .where(
            Case.state.in_(states),
            due < horizon,
            _unsent(_subject_sql("case", Case.id, due), kind),
        )
        .order_by(due, Case.id)
    )
    return [(case_id, deadline) for case_id, deadline in rows.all()]


async def review_alerts_due(
    now: datetime, horizon: datetime, *, session: AsyncSession
) -> list[tuple[int, datetime]]:
    """Open reviews due before `horizon` whose alert (the escalation once past due, else the
    reminder) is not sent yet, with their deadline, the earliest first."""
    kind = case((Review.due_at <= now, literal("escalate")), else_=literal("remind"))
    subject = _subject_sql("review", Review.id, Review.due_at)
    rows = await session.execute(
        select(Review.id, Review.due_at)
        .where(Review.decided_at.is_(None), Review.due_at < horizon, _unsent(subject, kind))
        .order_by(Review.due_at, Review.id)
    )
    return [(review_id, deadline) for review_id, deadline in rows.all()]


async def decided_before(state: str, before: datetime, *, session: AsyncSession) -> list[int]:
    """Cases still in the decided `state` whose decision came before `before`."""
    rows = await session.scalars(
        select(Case.id).where(Case.state == state, Case.decided_at <= before).order_by(Case.id)
    )
    return list(rows.all())
