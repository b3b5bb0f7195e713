"""The bulk reads and writes of the synthetic-data generator (`bot/demo.py`), which decides what
the rows hold. Reads come in a fixed order, so a seed gives the same rows on SQLite and
PostgreSQL. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Citizen, Official, Rating, Service

_CHUNK = 10_000


async def directory(*, session: AsyncSession) -> tuple[list[Agency], list[Service]]:
    """Every agency and every service, for choosing where the synthetic visits happen."""
    agencies = (await session.scalars(select(Agency).order_by(Agency.id))).all()
    services = (await session.scalars(select(Service).order_by(Service.id))).all()
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
    found = await session.scalars(
        select(Citizen.id).where(Citizen.channel == channel).order_by(Citizen.id)
    )
    return list(found.all())


async def staff_officials(*, session: AsyncSession) -> list[Official]:
    """The officials who do not head their agency: the ones reports are about."""
    query = select(Official).where(Official.heads.is_(False)).order_by(Official.id)
    return list((await session.scalars(query)).all())
