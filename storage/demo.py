"""The bulk reads and writes of the synthetic-data generator (`bot/demo.py`), which decides what
the rows hold. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Citizen, Official, Rating, Service

_CHUNK = 10_000


async def directory(*, session: AsyncSession) -> tuple[list[Agency], list[Service]]:
    """Every agency and every service, for choosing where the synthetic visits happen."""
    agencies = (await session.scalars(select(Agency))).all()
    services = (await session.scalars(select(Service))).all()
    return list(agencies), list(services)


async def add_ratings(rows: Sequence[dict[str, Any]], *, session: AsyncSession) -> None:
    """One bulk insert; the daily roll-ups are rebuilt afterwards, not counted row by row."""
    await session.execute(insert(Rating.__table__), rows)


async def add_citizens(
    rows: Sequence[dict[str, Any]], channel: str, *, session: AsyncSession
) -> list[int]:
    """Insert the citizens, in chunks that keep each statement's parameters within the
    drivers' limits, and return the ids of every citizen of `channel`."""
    for first in range(0, len(rows), _CHUNK):
        await session.execute(insert(Citizen), rows[first : first + _CHUNK])
    found = await session.scalars(select(Citizen.id).where(Citizen.channel == channel))
    return list(found.all())


async def staff_officials(*, session: AsyncSession) -> list[Official]:
    """The officials who do not head their agency: the ones reports are about."""
    return list((await session.scalars(select(Official).where(Official.heads.is_(False)))).all())
