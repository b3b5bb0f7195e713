"""Heavy reads for the web pages, off the event loop that also serves the webhooks.

A page's figures (a year of roll-ups, every agency ranked) are read and added up in a worker
thread, on an event loop and a read engine of its own (a connection belongs to the loop that
opened it), the way `/export` writes its files. The bot's loop only waits for the result, so
neither the SQL nor the Python that adds it up can hold up a turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import make_engine

Result = TypeVar("Result")


async def read_off_the_loop(
    database_url: str, work: Callable[[AsyncSession], Awaitable[Result]]
) -> Result:
    """`work(session)` run in a worker thread on a read connection of its own."""
    return await asyncio.to_thread(asyncio.run, _read(database_url, work))


async def _read(database_url: str, work: Callable[[AsyncSession], Awaitable[Result]]) -> Result:
    engine = make_engine(database_url, for_reading=True)
    try:
        async with async_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()
