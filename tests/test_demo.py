"""Demo data: a seed gives the same rows on SQLite and on PostgreSQL, as the README promises."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import demo
from bot.runtime import prepare_database
from storage.models import Agency, Official, Rating, Report, Service
from tests.conftest import make_settings

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


async def seeded_rows(database_url: str, tmp_path: Path) -> list[tuple[Any, ...]]:
    """Seed 7's ratings and reports, named by codes (ids may differ between databases)."""
    db, sessions = await prepare_database(make_settings(tmp_path, database_url=database_url))
    try:
        await demo.seed(sessions, ratings=600, reports=15, seed_value=7, now=NOW)
        async with sessions() as session:
            ratings = await session.execute(
                select(
                    Agency.code,
                    Service.code,
                    Rating.score_access,
                    Rating.score_conduct,
                    Rating.timeliness,
                    Rating.comment,
                    Rating.created_at,
                )
                .join(Agency, Agency.id == Rating.agency_id)
                .join(Service, Service.id == Rating.service_id)
                .order_by(Rating.id)
            )
            reports = await session.execute(
                select(Report.receipt, Official.code, Report.category, Report.created_at)
                .join(Official, Official.id == Report.official_id)
                .order_by(Report.id)
            )
            rows = [*ratings.all(), *reports.all()]
    finally:
        await db.dispose()
    return [
        tuple(v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in r) for r in rows
    ]


@pytest.mark.postgres
async def test_a_seed_gives_the_same_data_on_sqlite_and_postgresql(
    database_url: str, tmp_path: Path
) -> None:
    on_sqlite = await seeded_rows(f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}", tmp_path)
    on_postgres = await seeded_rows(database_url, tmp_path)
    assert len(on_sqlite) == 615
    assert on_sqlite == on_postgres
