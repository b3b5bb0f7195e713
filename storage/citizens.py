"""Citizens who consented. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.identity import keys_of
from storage.models import Case, Citizen, Commendation, Rating, Report


async def find_citizen(channel: str, account_id: str, *, session: AsyncSession) -> Citizen | None:
    """The person behind a messenger account, found by the keyed hash of its id."""
    ref = keys_of(session).ref(channel, account_id)
    return await session.scalar(
        select(Citizen).where(Citizen.channel == channel, Citizen.account_ref == ref)
    )


async def register_citizen(
    channel: str,
    account_id: str,
    *,
    locale: str,
    consent_version: str,
    now: datetime,
    session: AsyncSession,
) -> Citizen:
    """Record consent, with its time and the version of the notice the person agreed to."""
    keys = keys_of(session)
    citizen = Citizen(
        channel=channel,
        account_ref=keys.ref(channel, account_id),
        address=keys.seal(account_id),
        locale=locale,
        consent_version=consent_version,
        consented_at=now,
        created_at=now,
    )
    session.add(citizen)
    await session.flush()
    return citizen


async def citizen_by_id(citizen_id: int, *, session: AsyncSession) -> Citizen | None:
    return await session.get(Citizen, citizen_id)


async def forget_citizen(
    citizen: Citizen, open_states: Sequence[str], *, session: AsyncSession
) -> int:
    """Delete a person's ratings, commendations and contact details, detach their closed
    reports, and delete the person unless open cases still need to reach them. Returns how
    many open reports keep the link."""
    citizen_id = citizen.id
    await session.execute(delete(Rating).where(Rating.citizen_id == citizen_id))
    await session.execute(delete(Commendation).where(Commendation.citizen_id == citizen_id))
    await session.execute(
        update(Report)
        .where(Report.citizen_id == citizen_id)
        .values(contact_name=None, contact_phone=None, anonymous=True)
    )
    open_reports = select(Case.report_id).where(Case.state.in_(open_states))
    await session.execute(
        update(Report)
        .where(Report.citizen_id == citizen_id, Report.id.not_in(open_reports))
        .values(citizen_id=None)
    )
    kept = await session.scalar(
        select(func.count()).select_from(Report).where(Report.citizen_id == citizen_id)
    )
    if not kept:
        await session.delete(citizen)
    await session.flush()
    return kept or 0
