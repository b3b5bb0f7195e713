"""Opening aiosqlite connections so that a cancelled or failed open leaves nothing running.

aiosqlite opens a connection on the connection's own thread. When the task opening it is
cancelled meanwhile (the bot stopping while a delivery reconnects) or the open fails, aiosqlite
asks the thread to stop but does not wait for it: the thread then finishes its work and answers
an event loop that may be closed by then ("RuntimeError: Event loop is closed", raised in the
thread), and a connection it did open is closed only by the garbage collector. Here the open
runs in a task of its own that a cancellation does not interrupt; the caller waits for it,
closes what it opened and waits for the thread to end, and only then lets the error go on.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, TypeVar

import aiosqlite

Kind = TypeVar("Kind", bound=aiosqlite.Connection)

ITER_CHUNK_SIZE = 64
"""Rows aiosqlite fetches per trip when a cursor is iterated (its own default)."""


def opener(kind: type[Kind]) -> Callable[..., Coroutine[Any, Any, Kind]]:
    """An `async_creator_fn` for SQLAlchemy's aiosqlite adapter that opens connections of
    `kind` (the adapter calls it with the arguments it would give `aiosqlite.connect`)."""
    return partial(open_connection, kind)


async def open_connection(kind: type[Kind], database: str, **options: Any) -> Kind:
    """A connection of `kind` to `database`, opened; on cancellation or failure, nothing of it
    is left running."""
    connection = kind(partial(sqlite3.connect, database, **options), ITER_CHUNK_SIZE)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
    opening = asyncio.ensure_future(_open(connection))
    try:
        return await asyncio.shield(opening)
    except BaseException:
        await _wind_down(connection, opening)
        raise


async def _open(connection: Kind) -> Kind:
    await connection
    return connection


async def _wind_down(connection: aiosqlite.Connection, opening: asyncio.Future[Any]) -> None:
    """Let the open finish, close the connection if it opened, and wait for its thread."""
    await asyncio.wait([opening])
    if not opening.cancelled() and opening.exception() is None:
        await connection.close()
    if connection._thread.ident is not None:  # else the open was cancelled before it began
        await asyncio.to_thread(connection._thread.join)
