"""aiosqlite with one trip to its thread per statement, for the writers' engine.

aiosqlite runs each call on the connection's own thread and wakes the event loop when it is done.
SQLAlchemy's adapter makes three or four such calls per statement (open a cursor, execute, fetch
the rows, close the cursor), and on a loaded machine each wake-up costs tens to hundreds of
microseconds: most of a turn. Here a statement's execute, fetch and close run as one call on the
thread; the cursor SQLAlchemy sees just hands out what that call returned. A transaction's
BEGIN travels in the same call as its first statement (nothing reaches the database between the
two anyway). Still nothing blocks the event loop. Large streamed reads keep aiosqlite's own
cursor (the reading engine).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import partial
from typing import Any

import aiosqlite

_Outcome = tuple[Any, list[Any], int, int | None]
"""description, rows, rowcount, lastrowid"""


def _run(
    connection: sqlite3.Connection, begin: str | None, sql: str, parameters: Any, many: bool
) -> _Outcome:
    """On the connection's thread: the transaction's BEGIN if held back, then the whole
    statement, rows included."""
    if begin is not None:
        connection.execute(begin)
    cursor = (
        connection.executemany(sql, parameters) if many else connection.execute(sql, parameters)
    )
    try:
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor:
    """The part of a DB-API cursor SQLAlchemy's aiosqlite adapter uses, awaitable."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def execute(self, sql: str, parameters: Any = ()) -> OneTripCursor:
        return await self._trip(sql, parameters, many=False)

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> OneTripCursor:
        return await self._trip(sql, parameters, many=True)

    async def _trip(self, sql: str, parameters: Any, *, many: bool) -> OneTripCursor:
        connection = self._connection
        if sql.startswith("BEGIN"):
            connection.held_begin = sql
            self.description, self._rows, self.rowcount, self.lastrowid = None, [], -1, None
            return self
        begin, connection.held_begin = connection.held_begin, None
        outcome = await connection.call(_run, begin, sql, parameters, many)
        self.description, self._rows, self.rowcount, self.lastrowid = outcome
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = size or self.arraysize
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        """Nothing to do: the statement's cursor was closed on the thread."""


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors make one trip per statement. `trips` counts every
    call made on its thread (statements, BEGIN, COMMIT, ROLLBACK): what a turn costs in
    wake-ups, which a test keeps in check."""

    trips = 0
    held_begin: str | None = None
    """A BEGIN waiting to go with the transaction's first statement."""

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def commit(self) -> None:
        if self.held_begin is None:
            await super().commit()
        self.held_begin = None  # else no statement ran: there is nothing to end

    async def rollback(self) -> None:
        if self.held_begin is None:
            await super().rollback()
        self.held_begin = None

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.trips += 1
        return await super()._execute(fn, *args, **kwargs)

    async def call(self, function: Any, *arguments: Any) -> Any:
        """Run `function(sqlite3_connection, *arguments)` on the connection's thread."""
        return await self._execute(partial(function, self._conn, *arguments))
