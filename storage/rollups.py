"""Daily roll-ups of ratings: the sums behind every indicator, per day, agency and service.

Each stored rating adds itself to its day's row in the same transaction (an upsert), so the
roll-ups are never behind; `rebuild` recomputes them from the ratings in one SQL statement
(after a bulk load such as `feedbackbot demo seed`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, cast, delete, func, insert, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Rating, RatingDaily

VIETNAM_OFFSET = timedelta(hours=7)  # Vietnam keeps no daylight saving time
FACTORS = ("access", "procedure", "conduct", "result", "feedback")
SUMMED = [
    c.name
    for c in RatingDaily.__table__.columns
    if c.name not in ("day", "agency_id", "service_id")
]


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


def _contribution_of(rating: Rating) -> dict[str, int]:
    """The same contributions, for one rating in memory (the live path)."""
    values: dict[str, int] = {"ratings": 1}
    for factor in FACTORS:
        score = getattr(rating, f"score_{factor}")
        values[f"{factor}_n"] = int(score is not None)
        values[f"{factor}_high"] = int(score is not None and score >= 4)
        values[f"{factor}_sum"] = score or 0
    values |= {
        "timely_n": int(rating.timeliness != "not_yet"),
        "on_time_or_early": int(rating.timeliness in ("early", "on_time")),
        "early": int(rating.timeliness == "early"),
        "late": int(rating.timeliness == "late"),
        "late_with_apology": int(rating.timeliness == "late" and rating.apology == "yes"),
        "extra_papers": int(rating.extra_papers == "yes"),
        "three_trips": int(rating.trips >= 3),
        "remote": int(rating.submission != "in_person"),
        "unofficial_payment": int(rating.unofficial_payment == "yes"),
    }
    return values


async def count_rating(rating: Rating, *, session: AsyncSession) -> None:
    """Add a new rating to its day's roll-up (insert or increment)."""
    values = _contribution_of(rating)
    key = {
        "day": (rating.created_at + VIETNAM_OFFSET).date(),
        "agency_id": rating.agency_id,
        "service_id": rating.service_id,
    }
    dialect = session.bind.dialect.name
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(RatingDaily)
    statement = upsert.values(**key, **values).on_conflict_do_update(
        index_elements=["day", "agency_id", "service_id"],
        set_={name: getattr(RatingDaily, name) + value for name, value in values.items()},
    )
    await session.execute(statement)


def _local_day(dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return cast(func.timezone("Asia/Ho_Chi_Minh", Rating.created_at), postgresql.DATE)
    return func.date(Rating.created_at, "+7 hours")


async def rebuild(*, session: AsyncSession) -> None:
    """Recompute every roll-up from the ratings, in SQL."""
    day = _local_day(session.bind.dialect.name)
    contributions = _contributions()
    sums = [cast(func.sum(contributions[name]), Integer).label(name) for name in SUMMED]
    query = select(day.label("day"), Rating.agency_id, Rating.service_id, *sums).group_by(
        day, Rating.agency_id, Rating.service_id
    )
    await session.execute(delete(RatingDaily))
    await session.execute(
        insert(RatingDaily).from_select(["day", "agency_id", "service_id", *SUMMED], query)
    )
