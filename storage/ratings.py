"""Completed ratings. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime

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


LOW_CONDUCT = 2
"""The highest conduct mark that counts against the official the rating names."""


async def low_conduct_ratings(
    official_id: int, since: datetime, until: datetime, *, session: AsyncSession
) -> list[Rating]:
    """Ratings between two moments that name the official with a conduct mark of 1-2."""
    rows = await session.scalars(
        select(Rating)
        .where(
            Rating.official_id == official_id,
            Rating.score_conduct <= LOW_CONDUCT,
            Rating.created_at >= since,
            Rating.created_at <= until,
        )
        .order_by(Rating.created_at, Rating.id)
    )
    return list(rows.all())
