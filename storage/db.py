"""Engine and session factories.

On SQLite every transaction starts with BEGIN IMMEDIATE so writers queue on the busy timeout
instead of failing when a read lock would have to be upgraded (see SQLAlchemy's pysqlite notes on
serializable isolation). WAL lets readers run beside the one writer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.identity import SESSION_KEY, IdentityKeys

BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, echo: bool = False, for_reading: bool = False) -> AsyncEngine:
    """Build the async engine; for SQLite also set the pragmas and how transactions begin.

    The writers' engine begins with BEGIN IMMEDIATE. An engine `for_reading` (summaries,
    charts, exports) begins with a plain deferred BEGIN: it reads a consistent snapshot and,
    thanks to WAL, never holds up the writers however long an export streams.
    """
    engine = create_async_engine(url, echo=echo)
    if is_sqlite(url):
        _configure_sqlite(engine, "BEGIN" if for_reading else "BEGIN IMMEDIATE")
    return engine


def _configure_sqlite(engine: AsyncEngine, begin: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite must not issue its own BEGIN: the "begin" hook below does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            f"busy_timeout={BUSY_TIMEOUT_MS}",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)


def make_sessionmaker(engine: AsyncEngine, keys: IdentityKeys) -> async_sessionmaker[AsyncSession]:
    """Sessions that carry the identity keys, so storage can find and seal messenger ids."""
    return async_sessionmaker(engine, expire_on_commit=False, info={SESSION_KEY: keys})
