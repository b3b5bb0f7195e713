"""The rows of an export, streamed from the database in chunks of plain tuples.

No ORM object is built per row: each table is one Core query whose columns are already what a
file needs, and instants come out as the province's wall-clock time, rendered by the database
("2026-11-30 09:05"), so a million ratings cost no Python date arithmetic. Codes stay codes (an
agency's id, a stored option): the caller labels them once per export, not once per row.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, null, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    Agency,
    Assignment,
    Case,
    CaseEvent,
    Official,
    Rating,
    Report,
    Service,
)
from storage.rollups import FACTORS, local_minute

CHUNK = 5000
"""Rows fetched at a time: large enough that a chunk costs one trip to the database's thread,
small enough that memory stays flat."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rows an export covers."""

    start: datetime
    end: datetime
    agency_ids: Sequence[int] | None = None
    """None: every agency."""
    hidden_official: int | None = None
    """An officer never receives what was reported about themselves."""

    def about_others(self, official: Any) -> ColumnElement[bool]:
        if self.hidden_official is None:
            return true()
        return or_(official.is_(None), official != self.hidden_official)

    def within(self, query: Select[Any], instant: Any, agency: Any) -> Select[Any]:
        """The query limited to the period and the agencies in scope."""
        query = query.where(instant >= self.start, instant < self.end)
        return query if self.agency_ids is None else query.where(agency.in_(self.agency_ids))


async def _chunks(session: AsyncSession, query: Select[Any]) -> AsyncIterator[Sequence[Any]]:
    """The query's rows, a chunk at a time; the next chunk is fetched while the caller writes
    this one (the database works in its own thread meanwhile)."""
    connection = await session.connection()
    result = await connection.stream(query.execution_options(yield_per=CHUNK))
    chunks = aiter(result.partitions(CHUNK))
    upcoming = asyncio.ensure_future(anext(chunks, None))
    try:
        while (chunk := await upcoming) is not None:
            upcoming = asyncio.ensure_future(anext(chunks, None))
            await asyncio.sleep(0)  # the fetch starts before the caller's writing holds the loop
            yield chunk
    finally:
        upcoming.cancel()


def _shown(column: Any, session: AsyncSession) -> ColumnElement[Any]:
    return local_minute(column, session.bind.dialect.name)


async def rating_count(scope: Scope, *, session: AsyncSession) -> int:
    """How many ratings an export will write (for a progress bar)."""
    query = scope.within(
        select(func.count()).select_from(Rating), Rating.created_at, Rating.agency_id
    )
    return (await session.scalar(query)) or 0


async def codes_and_names(
    table: type[Agency] | type[Service], *, session: AsyncSession
) -> dict[int, tuple[str, str]]:
    """Every agency's or service's code and name: a directory is small, a year of ratings is
    not."""
    rows = await session.execute(select(table.id, table.code, table.name_vi))
    return {id_: (code, name) for id_, code, name in rows}


async def rating_rows(
    scope: Scope, *, free_text: bool, session: AsyncSession
) -> AsyncIterator[Sequence[Any]]:
    """Time, agency id, service id, channel, the factors' scores, timeliness, apology, extra
    papers, trips, submission, unofficial payment, comment (None unless `free_text`).

    The first and last ids of the period bound the read: ratings are stored as they come, so
    the database reads that stretch of the table in order, rather than a whole index range
    whose rows it must then sort."""
    bounds = scope.within(
        select(func.min(Rating.id), func.max(Rating.id)), Rating.created_at, Rating.agency_id
    )
    first, last = (await session.execute(bounds)).one()
    if first is None:
        return
    query = (
        select(
            _shown(Rating.created_at, session),
            Rating.agency_id,
            Rating.service_id,
            Rating.channel,
            *(getattr(Rating, f"score_{factor}") for factor in FACTORS),
            Rating.timeliness,
            Rating.apology,
            Rating.extra_papers,
            Rating.trips,
            Rating.submission,
            Rating.unofficial_payment,
            Rating.comment if free_text else null(),
        )
        .where(Rating.id.between(first, last))
        .order_by(Rating.id)
    )
    async for chunk in _chunks(session, scope.within(query, Rating.created_at, Rating.agency_id)):
        yield chunk


def report_rows(
    scope: Scope, *, free_text: bool, pseudonyms: bool, session: AsyncSession
) -> AsyncIterator[Sequence[Any]]:
    """Id, time, category, agency id, official code and name, day it happened,
    anonymous, handle (an anonymous report's own, and only with `pseudonyms`), channel,
    description and description of the official (both only with `free_text`)."""
    query = (
        select(
            Report.id,
            _shown(Report.created_at, session),
            Report.category,
            Report.agency_id,
            Official.code,
            Official.name,
            Report.occurred_on,
            Report.anonymous,
            Report.handle if pseudonyms else null(),
            Report.channel,
            Report.description if free_text else null(),
            Report.official_description if free_text else null(),
        )
        .join(Official, Official.id == Report.official_id, isouter=True)
        .where(scope.about_others(Report.official_id))
        .order_by(Report.id)
    )
    return _chunks(session, scope.within(query, Report.created_at, Report.agency_id))


def case_rows(scope: Scope, *, session: AsyncSession) -> AsyncIterator[Sequence[Any]]:
    """Id, report id, agency id, state, flag, opened, acknowledgement and decision due,
    acknowledged, decided, closed, outcome."""
    query = (
        select(
            Case.id,
            Case.report_id,
            Case.agency_id,
            Case.state,
            Case.flag_reason,
            *(
                _shown(column, session)
                for column in (
                    Case.created_at,
                    Case.ack_due,
                    Case.decide_due,
                    Case.acknowledged_at,
                    Case.decided_at,
                    Case.closed_at,
                )
            ),
            Case.outcome,
        )
        .join(Report, Report.id == Case.report_id)
        .where(scope.about_others(Report.official_id))
        .order_by(Case.id)
    )
    return _chunks(session, scope.within(query, Case.created_at, Case.agency_id))


def event_rows(
    scope: Scope, *, free_text: bool, session: AsyncSession
) -> AsyncIterator[Sequence[Any]]:
    """For the cases of `case_rows`: case id, time, actor, action, state before and after,
    text (None unless `free_text`)."""
    query = (
        select(
            CaseEvent.case_id,
            _shown(CaseEvent.at, session),
            CaseEvent.actor,
            CaseEvent.action,
            CaseEvent.from_state,
            CaseEvent.to_state,
            CaseEvent.text if free_text else null(),
        )
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Report, Report.id == Case.report_id)
        .where(scope.about_others(Report.official_id))
        .order_by(CaseEvent.id)
    )
    return _chunks(session, scope.within(query, Case.created_at, Case.agency_id))


def reassignment_rows(scope: Scope, *, session: AsyncSession) -> AsyncIterator[Sequence[Any]]:
    """Official's code and name, home agency id, personnel measure, new post, effective day,
    decision number, case id, time recorded."""
    query = (
        select(
            Official.code,
            Official.name,
            Official.agency_id,
            Assignment.measure,
            Assignment.new_post,
            Assignment.effective_on,
            Assignment.decision_number,
            Assignment.case_id,
            _shown(Assignment.recorded_at, session),
        )
        .join(Official, Official.id == Assignment.official_id)
        .where(scope.about_others(Assignment.official_id))
        .order_by(Assignment.id)
    )
    return _chunks(session, scope.within(query, Assignment.recorded_at, Official.agency_id))
