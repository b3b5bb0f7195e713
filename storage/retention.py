"""The retention purge, one batch at a time. Callers own the transaction and decide what is old
(`handlers/admin/retention.py` holds the policy).

Each function takes at most `limit` rows whose moment lies in the window [`since`, `before`)
(`since` None: the whole past), oldest first along that moment's index (no sort of the whole
window per batch), changes or deletes them and returns how many. Rows that keep
existing are only taken while something is left to remove, so repeating a batch until it comes
back short drains the window, and a row is counted once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, exists, or_, select, true, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    AuditEntry,
    Case,
    CaseEvent,
    Commendation,
    Evidence,
    NotifyToken,
    OutboxMessage,
    ProcessedUpdate,
    Rating,
    Report,
)
from storage.outbox import PENDING

PURGE_ACTOR = "system"


def _within(
    column: InstrumentedAttribute[Any], since: datetime | None, before: datetime
) -> ColumnElement[bool]:
    older = column < before
    return older if since is None else older & (column >= since)


async def _ids(query: Select[tuple[int]], limit: int, session: AsyncSession) -> list[int]:
    return list((await session.scalars(query.limit(limit))).all())


async def _unlink(
    model: type[Rating] | type[Commendation],
    text: InstrumentedAttribute[str | None],
    window: tuple[datetime | None, datetime],
    limit: int,
    session: AsyncSession,
) -> int:
    """Blank `text` and the link to the citizen of up to `limit` rows created in the window."""
    query = (
        select(model.id)
        .where(
            _within(model.created_at, *window),
            or_(text.is_not(None), model.citizen_id.is_not(None)),
        )
        .order_by(model.created_at)
    )
    ids = await _ids(query, limit, session)
    if ids:
        await session.execute(
            update(model).where(model.id.in_(ids)).values({text.key: None, "citizen_id": None})
        )
    return len(ids)


async def unlink_ratings(
    since: datetime | None, before: datetime, limit: int, *, session: AsyncSession
) -> int:
    """Drop the comment and the link to the citizen of old ratings; the marks stay (the daily
    roll-ups already hold them, so summaries do not change)."""
    return await _unlink(Rating, Rating.comment, (since, before), limit, session)


async def unlink_commendations(
    since: datetime | None, before: datetime, limit: int, *, session: AsyncSession
) -> int:
    """Drop the text and the link to the citizen of old commendations; they still count."""
    return await _unlink(Commendation, Commendation.text, (since, before), limit, session)


def _case_keeps_something() -> ColumnElement[bool]:
    """A closed case still holding free text, contact details, files or its reporter's link."""
    return or_(
        Report.description.is_not(None),
        Report.official_description.is_not(None),
        Report.contact_name.is_not(None),
        Report.contact_phone.is_not(None),
        Report.citizen_id.is_not(None),
        Case.outcome_note.is_not(None),
        Case.pending_question.is_not(None),
        exists().where(Evidence.report_id == Report.id),
        exists().where(CaseEvent.case_id == Case.id, CaseEvent.text.is_not(None)),
    )


async def strip_closed_cases(
    since: datetime | None, before: datetime, limit: int, *, session: AsyncSession
) -> int:
    """Remove the texts, contact details, files and the reporter's link of cases closed in the
    window; the case, its outcome and its timeline's steps stay for the statistics."""
    query = (
        select(Case.id)
        .join(Report, Report.id == Case.report_id)
        .where(
            Case.closed_at.is_not(None),
            _within(Case.closed_at, since, before),
            _case_keeps_something(),
        )
        .order_by(Case.closed_at)
    )
    ids = await _ids(query, limit, session)
    if ids:
        await _strip_cases(ids, session)
    return len(ids)


async def _strip_cases(case_ids: Sequence[int], session: AsyncSession) -> None:
    reports = select(Case.report_id).where(Case.id.in_(case_ids))
    await session.execute(
        update(Report)
        .where(Report.id.in_(reports))
        .values(
            description=None,
            official_description=None,
            contact_name=None,
            contact_phone=None,
            citizen_id=None,
        )
    )
    await session.execute(
        update(Case).where(Case.id.in_(case_ids)).values(outcome_note=None, pending_question=None)
    )
    await session.execute(delete(Evidence).where(Evidence.report_id.in_(reports)))
    await session.execute(
        update(CaseEvent)
        .where(CaseEvent.case_id.in_(case_ids), CaseEvent.text.is_not(None))
        .values(text=None)
    )


async def delete_sent_messages(
    since: datetime | None, before: datetime, limit: int, *, session: AsyncSession
) -> int:
    """Delete messages already sent or given up: no copy of what they said is kept."""
    outbox = OutboxMessage
    unsent = outbox.status != PENDING
    return await _delete_by_id(outbox, outbox.created_at, unsent, since, before, limit, session)


async def delete_abandoned_files(
    since: datetime | None, before: datetime, limit: int, *, session: AsyncSession
) -> int:
    """Delete files attached to reports their authors never sent."""
    staged = Evidence.staged_by.is_not(None)
    return await _delete_by_id(
        Evidence, Evidence.created_at, staged, since, before, limit, session
    )


async def delete_notification_buttons(
    since: datetime | None, before: datetime, limit: int, *, session: AsyncSession
) -> int:
    """Delete the buttons of old notifications nobody pressed (each chat's newest are also
    pruned when it presses one)."""
    return await _delete_by_id(
        NotifyToken, NotifyToken.created_at, true(), since, before, limit, session
    )


async def _delete_by_id(
    model: type[OutboxMessage] | type[Evidence] | type[NotifyToken],
    at: InstrumentedAttribute[datetime],
    condition: ColumnElement[bool],
    since: datetime | None,
    before: datetime,
    limit: int,
    session: AsyncSession,
) -> int:
    """Delete, oldest first, up to `limit` rows that meet `condition` and aged in the window."""
    query = select(model.id).where(_within(at, since, before), condition)
    ids = await _ids(query.order_by(at), limit, session)
    if ids:
        await session.execute(delete(model).where(model.id.in_(ids)))
    return len(ids)


async def delete_processed_updates(
    since: datetime | None, before: datetime, limit: int, *, session: AsyncSession
) -> int:
    """Forget old update ids: platforms redeliver within a day, so they need not be known."""
    query = select(ProcessedUpdate.channel, ProcessedUpdate.update_id).where(
        _within(ProcessedUpdate.processed_at, since, before)
    )
    keys = [tuple(row) for row in (await session.execute(query.limit(limit))).all()]
    if keys:
        key = tuple_(ProcessedUpdate.channel, ProcessedUpdate.update_id)
        await session.execute(delete(ProcessedUpdate).where(key.in_(keys)))
    return len(keys)


async def count_purge(
    kind: str, total: int, now: datetime, entry_id: int | None, *, session: AsyncSession
) -> int:
    """Write the round's audit row of one purge kind, or raise its count to `total`, in the
    batch's own transaction: the log and the data never disagree. Returns the row's id."""
    if entry_id is not None:
        await session.execute(
            update(AuditEntry).where(AuditEntry.id == entry_id).values(detail=str(total))
        )
        return entry_id
    entry = AuditEntry(at=now, actor=PURGE_ACTOR, action=kind, allowed=True, detail=str(total))
    session.add(entry)
    await session.flush()
    assert entry.id is not None
    return entry.id
