"""Daily roll-ups of ratings: the sums behind every indicator, per day, agency and service.

Each stored rating adds itself to its day's row in the same transaction (an upsert), so the
roll-ups are never behind; `rebuild` recomputes them from the ratings in one SQL statement
(after a bulk load such as `feedbackbot demo seed`). Both use the one definition of what a
rating contributes, `_contributions`. Days are Vietnam's (UTC+7, no daylight saving time).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement

from storage.db import upsert
from storage.models import FACTORS, Rating, RatingDaily

KEYS = ("day", "agency_id", "service_id")
ZONE = "Asia/Ho_Chi_Minh"
"""Vietnam's time: UTC+7 all year, which SQLite spells "+7 hours"."""
SUMMED = [c.name for c in RatingDaily.__table__.columns if c.name not in KEYS]


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _contributions() -> dict[str, ColumnElement[Any]]:
    """What one rating adds to each column, as SQL over the rating table."""
    score = {f: getattr(Rating, f"score_{f}") for f in FACTORS}
    columns: dict[str, ColumnElement[Any]] = {"ratings": literal_column("1")}
    for factor, column in score.items():
        columns[f"{factor}_n"] = _flag(column.is_not(None))
        columns[f"{factor}_high"] = _flag(column >= 4)
        columns[f"{factor}_sum"] = func.coalesce(column, 0)
    columns |= {
        "timely_n": _flag(Rating.timeliness != "not_yet"),
        "on_time_or_early": _flag(Rating.timeliness.in_(("early", "on_time"))),
        "early": _flag(Rating.timeliness == "early"),
        "late": _flag(Rating.timeliness == "late"),
        "late_with_apology": _flag(and_(Rating.timeliness == "late", Rating.apology == "yes")),
        "extra_papers": _flag(Rating.extra_papers == "yes"),
        "three_trips": _flag(Rating.trips >= 3),
        "remote": _flag(Rating.submission != "in_person"),
        "unofficial_payment": _flag(Rating.unofficial_payment == "yes"),
    }
    return columns


async def count_rating(rating: Rating, *, session: AsyncSession) -> None:
    """Add a stored rating to its day's roll-up (insert or increment), with the same SQL
    contributions `rebuild` sums, so the live path and the rebuild cannot drift apart."""
    await session.execute(_counting(session.bind.dialect.name), {"rating_id": rating.id})


@cache
def _counting(dialect: str) -> Insert:
    """The upsert behind `count_rating`, built once per dialect: it is a large expression and
    every submitted rating runs it."""
    contributions = _contributions()
    row = select(
        _local_day(dialect),
        Rating.agency_id,
        Rating.service_id,
        *(contributions[name] for name in SUMMED),
    ).where(Rating.id == bindparam("rating_id"))
    table = RatingDaily.__table__
    statement = upsert(dialect, table).from_select([*KEYS, *SUMMED], row)
    return statement.on_conflict_do_update(
        index_elements=list(KEYS),
        set_={name: table.c[name] + statement.excluded[name] for name in SUMMED},
    )


def _local_day(dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return cast(func.timezone(ZONE, Rating.created_at), postgresql.DATE)
    return func.date(Rating.created_at, "+7 hours")


def local_minute(instant: Any, dialect: str) -> ColumnElement[str]:
    """A stored UTC instant as the province's wall-clock time to the minute, as text
    ("2026-11-30 09:05"), rendered by the database."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(ZONE, instant), "YYYY-MM-DD HH24:MI")
    return func.strftime("%Y-%m-%d %H:%M", instant, "+7 hours")


async def rebuild(*, session: AsyncSession) -> None:
    """Recompute every roll-up from the ratings, in SQL."""
    day = _local_day(session.bind.dialect.name)
    contributions = _contributions()
    sums = [cast(func.sum(contributions[name]), Integer).label(name) for name in SUMMED]
    query = select(day.label("day"), Rating.agency_id, Rating.service_id, *sums).group_by(
        day, Rating.agency_id, Rating.service_id
    )
    await session.execute(delete(RatingDaily))
    await session.execute(insert(RatingDaily).from_select([*KEYS, *SUMMED], query))
