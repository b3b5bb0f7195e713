"""Citizens who consented. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen


async def find_citizen(channel: str, external_id: str, *, session: AsyncSession) -> Citizen | None:
    return await session.scalar(
        select(Citizen).where(Citizen.channel == channel, Citizen.external_id == external_id)
    )


async def register_citizen(
    channel: str,
    external_id: str,
    *,
    pseudonym: str,
    locale: str,
    consent_version: str,
    now: datetime,
    session: AsyncSession,
) -> Citizen:
    """Record consent, with its time and the version of the notice the person agreed to."""
    citizen = Citizen(
        channel=channel,
        external_id=external_id,
        pseudonym=pseudonym,
        locale=locale,
        consent_version=consent_version,
        consented_at=now,
        created_at=now,
    )
    session.add(citizen)
    await session.flush()
    return citizen
