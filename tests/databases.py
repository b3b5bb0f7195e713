"""The databases tests run on: a template migrated and filled with the directory once, and a
fresh copy of it per test (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL)."""

from __future__ import annotations

import asyncio
import functools
import os
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

import asyncpg

from bot.config import Settings
from bot.runtime import prepare_database

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@/postgres")
"""The server the `[postgres]` variants run on: an admin URL, as they create databases there.
With no host, the local server by its Unix socket (as psql finds it), else localhost: a few
hundred statements per test cost a third less than over TCP."""


@functools.cache
def postgres_answers() -> bool:
    """Whether a server answers at POSTGRES_URL (asked once per process): without one, the
    `[postgres]` variants are skipped and the rest still runs."""

    async def connect() -> None:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
        await connection.close()

    try:
        asyncio.run(connect())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


async def prepare(url: str) -> None:
    """Migrations and the sample directory, as the bot's first start makes them."""
    db, _ = await prepare_database(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    await db.dispose()


async def _execute(admin: str, *statements: str) -> None:
    connection = await asyncpg.connect(admin)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _drop(admin: str, name: str) -> None:
    await _execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(admin: str, name: str) -> str:
    """An empty database (no schema) on the server of `admin`; its SQLAlchemy URL."""
    asyncio.run(_execute(admin, f'CREATE DATABASE "{name}"'))
    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


def drop_database(admin: str, name: str) -> None:
    asyncio.run(_drop(admin, name))


class PostgresCopies:
    """Copies of a PostgreSQL template, made and dropped by background threads: the next
    test's copy is made while this test runs, and DROP DATABASE (which waits for a checkpoint)
    holds up no test. Copies commit without waiting for the disk; none outlives a crash."""

    def __init__(self, admin: str) -> None:
        """`admin` is a URL such as postgresql://postgres@/postgres."""
        self._admin = admin
        self._base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        self.template = f"feedbackbot_template_{uuid.uuid4().hex[:12]}"
        asyncio.run(_execute(admin, f'CREATE DATABASE "{self.template}"'))
        asyncio.run(prepare(self.url(self.template)))
        self._threads = ThreadPoolExecutor(max_workers=2)
        self._drops: list[Future[None]] = []
        self._next = self._threads.submit(self._copy)

    def url(self, name: str) -> str:
        return f"{self._base}/{name}"

    def take(self) -> str:
        """A fresh copy's name (made ahead), and start making the next."""
        name = self._next.result()
        self._next = self._threads.submit(self._copy)
        return name

    def drop(self, name: str) -> None:
        self._drops.append(self._threads.submit(asyncio.run, _drop(self._admin, name)))

    def close(self) -> None:
        """Drop the spare copy and the template once every drop is done; fail if one was not."""
        self.drop(self._next.result())
        self._threads.shutdown(wait=True)
        for drop in self._drops:
            drop.result()
        asyncio.run(_drop(self._admin, self.template))

    def _copy(self) -> str:
        name = f"feedbackbot_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(
            _execute(
                self._admin,
                f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"',
                f'ALTER DATABASE "{name}" SET synchronous_commit = off',
            )
        )
        return name
