"""Engine and session factories.

On SQLite the writers' engine has exactly one connection: every transaction on it (a turn, a
delivery mark, a scheduler step, a CLI command's session, Core or ORM, explicit or autobegun)
checks that connection out of the pool for its duration, so writers queue in process on the
pool's asyncio queue and wake the moment the previous one has committed, instead of colliding
in SQLite's busy handler, which sleeps and retries. The connection is only handed back after
COMMIT or ROLLBACK has finished, so two writers never overlap. Nothing changes for callers: the
sessionmaker is the gate. Waiting has a bound (the busy timeout): a transaction that opened a
second one inside itself fails with `sqlalchemy.exc.TimeoutError` rather than hanging forever.

Every transaction still starts with BEGIN IMMEDIATE, for other processes on the same file (a CLI
command beside the bot): there the busy timeout queues them (see SQLAlchemy's pysqlite notes on
serializable isolation). Reads that may take long use an engine `for_reading`: a pool of its
own connections and a deferred BEGIN, which WAL lets run beside the one writer.

PostgreSQL keeps its ordinary pool: row locks serialise what must be serialised.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.identity import SESSION_KEY, IdentityKeys
from storage.sqlite_opening import opener
from storage.sqlite_trips import OneTripConnection

BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(
    url: str,
    *,
    echo: bool = False,
    for_reading: bool = False,
    writer_wait_seconds: float = BUSY_TIMEOUT_MS / 1000,
    checkpoints: bool = True,
) -> AsyncEngine:
    """Build the async engine; for SQLite also set the pragmas and how transactions begin.

    The writers' engine on SQLite holds one connection (the in-process write gate, see the
    module's docstring), which makes one trip to its thread per statement (`sqlite_trips`); a
    transaction waits at most `writer_wait_seconds` for it. An engine
    `for_reading` (summaries, charts, exports) begins with a plain deferred BEGIN: it reads a
    consistent snapshot and, thanks to WAL, never holds up the writer however long it streams.
    With `checkpoints=False` the writer leaves copying the WAL back into the database file to
    `checkpoint_now_and_then` (see there).
    """
    if not is_sqlite(url):
        return create_async_engine(url, echo=echo)
    if for_reading:
        engine = create_async_engine(url, echo=echo)
        _configure_sqlite(engine, "BEGIN", kind=aiosqlite.Connection)
        return engine
    # Every transaction on it ends in COMMIT or ROLLBACK (a session or connection that closes
    # with one open rolls it back), so the pool's own rollback on check-in, one more trip to
    # the connection's thread per transaction, would only repeat that.
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=1,
        max_overflow=0,
        pool_timeout=writer_wait_seconds,
        pool_reset_on_return=None,
    )
    _configure_sqlite(
        engine,
        "BEGIN IMMEDIATE",
        () if checkpoints else ("wal_autocheckpoint=0",),
        kind=OneTripConnection,
    )
    return engine


def _configure_sqlite(
    engine: AsyncEngine,
    begin: str,
    pragmas: tuple[str, ...] = (),
    *,
    kind: type[aiosqlite.Connection],
) -> None:
    """Connections of `kind`, opened by `sqlite_opening` (a cancelled open strands no
    thread), with the pragmas and how a transaction begins."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _open_with(_dialect: Any, _record: Any, _args: Any, options: dict[str, Any]) -> None:
        options["async_creator_fn"] = opener(kind)

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
            *pragmas,
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)


async def checkpoint_now_and_then(reader: AsyncEngine, *, every_seconds: float = 1.0) -> None:
    """Copy the write-ahead log back into the database file every `every_seconds`, on a
    connection of the reading engine, until cancelled. SQLite's automatic checkpoint runs
    inside the COMMIT that takes the log past 1,000 pages, so one turn in a few hundred (and
    every writer queued behind it) waited for it; a PASSIVE checkpoint here waits for nobody
    and the writer goes on appending meanwhile."""
    while True:
        await checkpoint(reader)
        await asyncio.sleep(every_seconds)


async def checkpoint(reader: AsyncEngine) -> None:
    """Copy what the write-ahead log holds back into the database file, as far as no reader
    still needs it; the next writer then starts the log over."""
    async with reader.connect() as connection:
        await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


_CONFLICTS = frozenset({"40001", "40P01"})
"""PostgreSQL's serialization_failure and deadlock_detected: the transaction was rolled back
whole, and running it again is the documented remedy."""


def is_transient_conflict(error: BaseException) -> bool:
    """Whether the database rolled the transaction back to resolve a conflict with another."""
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in _CONFLICTS


def upsert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that takes ON CONFLICT clauses, in the dialect named (SQLite and PostgreSQL
    spell them alike)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def make_sessionmaker(engine: AsyncEngine, keys: IdentityKeys) -> async_sessionmaker[AsyncSession]:
    """Sessions that carry the identity keys, so storage can find and seal messenger ids."""
    return async_sessionmaker(engine, expire_on_commit=False, info={SESSION_KEY: keys})
