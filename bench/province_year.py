"""A year of a whole province: seed N ratings (default 1,000,000), then measure
- how long the summary takes (the figures behind /summary: SQL over the daily roll-ups),
- the rows per second and peak memory of a CSV and an XLSX export of every rating (each in its
  own process; rows per CPU-second too, which other work on the machine disturbs less).

Run: .venv/bin/python -m bench.province_year [--ratings 1000000] [--database PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot import demo
from bot.config import Settings
from bot.exports import ExportRequest, open_tables, write_export
from bot.runtime import prepare_database
from handlers.admin.summary import build_summary
from handlers.clock import LOCAL_ZONE
from handlers.periods import parse_period
from storage.db import make_engine, make_sessionmaker
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


async def time_summary(database: Path) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of the figures behind /summary, on a read engine as the bot
    makes them (after the turn, on a read connection)."""
    settings = settings_for(database)
    reader = make_engine(settings.database_url, for_reading=True)
    sessions = make_sessionmaker(reader, settings.identity_keys())
    period = parse_period("2025-12-01..2026-11-30", NOW.astimezone(LOCAL_ZONE).date())
    assert period is not None
    timings, cpu = [], []
    for _ in range(5):
        started, used = time.perf_counter(), time.process_time()
        async with sessions() as session:
            summary = await build_summary(
                session, period, None, now=NOW, min_sample=30, locale="vi"
            )
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    print(f"summary over {summary.overall.ratings} ratings, {len(summary.agencies)} agencies")
    await reader.dispose()
    return timings, cpu


async def export_in_this_process(database: Path, file_format: str, output: Path) -> None:
    # A read engine, as in the bot: the export must not hold the write lock while it streams.
    reader = make_engine(settings_for(database).database_url, for_reading=True)
    period = parse_period("2025-01-01..2026-12-31", NOW.date())
    assert period is not None
    tables = open_tables(output, file_format)
    ratings = 0

    def count(rows: int) -> None:
        nonlocal ratings
        ratings += rows

    started, cpu = time.perf_counter(), time.process_time()
    request = ExportRequest(period, None, False, "vi")
    await write_export(async_sessionmaker(reader), tables, request, count)
    tables.close()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await reader.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = (await asyncio.to_thread(os.path.getsize, output)) / 1e6
    print(
        f"{file_format}: {ratings} ratings in {elapsed:.1f} s ({ratings / elapsed:,.0f} rows/s; "
        f"CPU {cpu:.1f} s, {ratings / cpu:,.0f} rows per CPU-second), {size:.0f} MB file, "
        f"peak memory {peak:.0f} MB"
    )


def _cpu_model() -> str:
    """The processor's name, as Linux reports it."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


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
        f"machine: {platform.machine()} {_cpu_model()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()}, load average "
        f"{os.getloadavg()[0]:.1f} (other work slows every figure)"
    )
    asyncio.run(seed_if_needed(database, arguments.ratings))
    timings, cpu = asyncio.run(time_summary(database))
    print(
        f"summary: median {statistics.median(timings) * 1000:.0f} ms, "
        f"worst {max(timings) * 1000:.0f} ms, CPU median {statistics.median(cpu) * 1000:.0f} ms"
        " (5 runs)"
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
