"""A year of a whole province: seed N ratings (default 1,000,000), then measure
- how long the summary takes (the figures behind /summary: SQL over the daily roll-ups),
- the peak memory of an XLSX and a CSV export of every rating (each in its own process).

Run: .venv/bin/python -m bench.province_year [--ratings 1000000] [--database PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot import demo
from bot.config import Settings
from bot.exports import ExportRequest, open_tables, write_export
from bot.runtime import prepare_database
from handlers.clock import LOCAL_ZONE
from handlers.periods import parse_period
from handlers.summary import build_summary
from storage.models import Rating

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def settings_for(database: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{database}", _env_file=None)


async def seed_if_needed(database: Path, ratings: int) -> None:
    db, sessions = await prepare_database(settings_for(database))
    async with sessions() as session:
        present = await session.scalar(select(func.count()).select_from(Rating)) or 0
    if present < ratings:
        started = time.perf_counter()
        await demo.seed(sessions, ratings=ratings - present, reports=2000, seed_value=1, now=NOW)
        print(f"seeded {ratings - present} ratings in {time.perf_counter() - started:.0f} s")
    await db.dispose()


async def time_summary(database: Path) -> list[float]:
    db, sessions = await prepare_database(settings_for(database))
    period = parse_period("2025-12-01..2026-11-30", NOW.astimezone(LOCAL_ZONE).date())
    assert period is not None
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        async with sessions() as session:
            summary = await build_summary(
                session, period, None, now=NOW, min_sample=30, locale="vi"
            )
        timings.append(time.perf_counter() - started)
    print(f"summary over {summary.overall.ratings} ratings, {len(summary.agencies)} agencies")
    await db.dispose()
    return timings


async def export_in_this_process(database: Path, file_format: str, output: Path) -> None:
    db, sessions = await prepare_database(settings_for(database))
    period = parse_period("2025-01-01..2026-12-31", NOW.date())
    assert period is not None
    tables = open_tables(output, file_format)
    started = time.perf_counter()
    await write_export(sessions, tables, ExportRequest(period, None, False, "vi"))
    tables.close()
    await db.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = (await asyncio.to_thread(os.path.getsize, output)) / 1e6
    print(
        f"{file_format}: {time.perf_counter() - started:.0f} s, {size:.0f} MB file, "
        f"peak memory {peak:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--database", type=Path)
    parser.add_argument("--child-export", choices=["xlsx", "csv"])
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    database = arguments.database or folder / "province.sqlite3"
    if arguments.child_export:
        output = folder / f"export.{'xlsx' if arguments.child_export == 'xlsx' else 'zip'}"
        asyncio.run(export_in_this_process(database, arguments.child_export, output))
        return
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()}"
    )
    asyncio.run(seed_if_needed(database, arguments.ratings))
    timings = asyncio.run(time_summary(database))
    print(
        f"summary: median {statistics.median(timings) * 1000:.0f} ms, "
        f"worst {max(timings) * 1000:.0f} ms (5 runs)"
    )
    for file_format in ("csv", "xlsx"):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.province_year",
                "--database",
                str(database),
                "--child-export",
                file_format,
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
