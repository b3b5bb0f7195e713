"""Commendations citizens sent. Callers own the transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Commendation


async def commendations_of(citizen_id: int, *, session: AsyncSession) -> list[Commendation]:
    rows = await session.scalars(
        select(Commendation).where(Commendation.citizen_id == citizen_id).order_by(Commendation.id)
    )
    return list(rows.all())
