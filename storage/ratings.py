"""Completed ratings. Callers own the transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Rating
from storage.rollups import count_rating


async def add_rating(rating: Rating, *, session: AsyncSession) -> Rating:
    """Store a rating and add it to its day's roll-up, in the caller's transaction."""
    session.add(rating)
    await session.flush()
    await count_rating(rating, session=session)
    return rating


async def ratings_of(citizen_id: int, *, session: AsyncSession) -> list[Rating]:
    rows = await session.scalars(
        select(Rating).where(Rating.citizen_id == citizen_id).order_by(Rating.id)
    )
    return list(rows.all())
