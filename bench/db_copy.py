"""How long `feedbackbot db copy` takes to move a pilot's SQLite database to PostgreSQL.

Seeds N ratings (default 100,000; about a fifth as many citizens) into a fresh SQLite file, then
copies it into a new PostgreSQL database and back into a new SQLite file, printing the rows,
the seconds and the rows per second of each copy. Needs a PostgreSQL server (the admin URL as
TEST_POSTGRES_URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres).

Run: TEST_POSTGRES_URL=… .venv/bin/python -m bench.db_copy [--ratings 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bot import demo
from bot.config import Settings
from bot.runtime import prepare_database
from storage.copying import copy_database
from storage.db import make_engine

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


async def seeded(database: Path, ratings: int) -> Settings:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{database}", _env_file=None)  # type: ignore[call-arg]
    db, sessions = await prepare_database(settings)
    await demo.seed(sessions, ratings=ratings, reports=ratings // 100, seed_value=1, now=NOW)
    await db.dispose()
    return settings


async def timed_copy(settings: Settings, source_url: str, target_url: str, label: str) -> None:
    source = make_engine(source_url, for_reading=True)
    target = make_engine(target_url)
    try:
        started = time.perf_counter()
        counts = await copy_database(source, target, settings.identity_keys())
        seconds = time.perf_counter() - started
    finally:
        await source.dispose()
        await target.dispose()
    rows = sum(count.target for count in counts)
    print(f"{label}: {rows:,} rows in {seconds:.1f} s, {rows / seconds:,.0f} rows/s")


async def main(ratings: int) -> None:
    admin = os.environ["TEST_POSTGRES_URL"]
    name = f"feedbackbot_bench_{uuid.uuid4().hex[:8]}"
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        settings = await seeded(Path(folder) / "pilot.sqlite3", ratings)
        print(f"seeded {ratings:,} ratings in {time.perf_counter() - started:.0f} s")
        connection = await asyncpg.connect(admin)
        await connection.execute(f'CREATE DATABASE "{name}"')
        postgres = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        try:
            await timed_copy(
                settings, settings.database_url, f"{postgres}/{name}", "SQLite → PostgreSQL"
            )
            back = f"sqlite+aiosqlite:///{Path(folder) / 'back.sqlite3'}"
            await timed_copy(settings, f"{postgres}/{name}", back, "PostgreSQL → SQLite")
        finally:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().ratings))
