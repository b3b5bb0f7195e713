"""An SQLite connection's thread never outlives the event loop that opened it.

aiosqlite runs each connection on a thread of its own, which answers the loop that asked. The
bot stopping while a task opens a connection (a delivery reconnecting after its connection was
dropped by the same stop) used to leave that thread to finish alone; on a loaded machine it
answered after the loop had closed and died with "Event loop is closed".
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine

SLOW_OPEN_SECONDS = 0.3
"""How long the open takes here: a machine busy enough that the loop closes first."""


async def read_one(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.exec_driver_sql("SELECT 1")


@pytest.mark.parametrize("for_reading", [False, True], ids=["writer", "reader"])
def test_stopping_while_a_connection_opens_leaves_no_thread_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, for_reading: bool
) -> None:
    opening = threading.Event()
    sqlite_connect = sqlite3.connect

    def slow_connect(*arguments: Any, **options: Any) -> sqlite3.Connection:
        opening.set()
        time.sleep(SLOW_OPEN_SECONDS)
        return sqlite_connect(*arguments, **options)

    monkeypatch.setattr(sqlite3, "connect", slow_connect)
    errors: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", errors.append)

    async def stop_while_opening() -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
        engine = make_engine(url, for_reading=for_reading)
        reading = asyncio.create_task(read_one(engine))
        await asyncio.to_thread(opening.wait)
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        await engine.dispose()

    before = set(threading.enumerate())
    asyncio.run(stop_while_opening())
    started = set(threading.enumerate()) - before
    still_running = sorted(thread.name for thread in started if thread.is_alive())
    for thread in started:
        thread.join(timeout=5 * SLOW_OPEN_SECONDS)
    assert [repr(error.exc_value) for error in errors] == []
    assert still_running == [], "a connection's thread outlived its event loop"
