"""One writer at a time: on SQLite, writers queue in the process, never in SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, exc, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.console import console_incoming
from handlers.flow import Turn
from storage.db import make_engine
from storage.models import Citizen
from tests.conftest import Chat


class Ledger:
    """Statements and transactions on an engine since the last `clear`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[str] = []
        self.transactions = 0
        self.open = 0
        self.most_open = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        event.listen(engine.sync_engine, "begin", self._begin)
        event.listen(engine.sync_engine, "commit", self._end)
        event.listen(engine.sync_engine, "rollback", self._end)

    def clear(self) -> None:
        self.statements, self.transactions = [], 0

    @property
    def round_trips(self) -> int:
        return len(self.statements) + 2 * self.transactions

    def _statement(self, _connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE: counted as a begin
            self.statements.append(statement)

    def _begin(self, _connection: Any) -> None:
        self.transactions += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)

    def _end(self, _connection: Any) -> None:
        self.open -= 1


async def test_concurrent_writers_queue_in_the_process_not_in_sqlite(consented: Chat) -> None:
    """With SQLite's busy handler switched off, any two writers meeting inside SQLite would
    fail at once ("database is locked"): turns of many chats, delivery passes and a scheduler
    job all at the same time must still all succeed, one transaction open at a time."""
    runtime = consented.runtime
    if runtime.db.dialect.name != "sqlite":
        pytest.skip("the in-process write gate is SQLite's")
    async with runtime.db.connect() as connection:
        await connection.exec_driver_sql("PRAGMA busy_timeout = 0")
    ledger = Ledger(runtime.db)
    chats = [Chat(runtime, consented.output, f"citizen-{n}") for n in range(2, 22)]

    async def walk(chat: Chat) -> list[bool]:
        lines = ("/start", "1", "/start", "2")
        results = [
            await runtime.engine.handle(console_incoming(line, chat_id=chat.chat_id))
            for line in lines
        ]
        return [result.failed or not result.outbox_ids for result in results]

    async def touch(turn: Turn) -> None:
        await turn.session.execute(select(Citizen.id))

    outcomes = await asyncio.gather(
        *(walk(chat) for chat in chats),
        runtime.dispatcher.deliver_due(),
        runtime.engine.run_job(touch),
    )
    assert not any(any(failed) for failed in outcomes[: len(chats)])
    assert not any("sự cố" in text for _chat, text in consented.output)
    assert ledger.most_open == 1
    async with runtime.db.connect() as connection:
        busy = await connection.exec_driver_sql("PRAGMA busy_timeout")
        assert busy.scalar() == 0, "the one writer connection was kept throughout"


async def test_a_write_waiting_inside_another_fails_instead_of_hanging(tmp_path: Path) -> None:
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}", writer_wait_seconds=0.1)
    try:
        async with db.begin() as outer:
            await outer.execute(text("SELECT 1"))
            with pytest.raises(exc.TimeoutError):
                async with db.begin() as inner:
                    await inner.execute(text("SELECT 1"))
    finally:
        await db.dispose()


async def test_reads_go_on_while_a_write_is_open(consented: Chat) -> None:
    runtime = consented.runtime
    async with runtime.sessions() as writing, writing.begin():
        await writing.execute(select(Citizen.id))
        async with runtime.reads() as reading:
            found = await asyncio.wait_for(reading.scalars(select(Citizen.id)), timeout=5)
        assert len(found.all()) == 1


async def test_the_writers_connection_answers_like_aiosqlite(tmp_path: Path) -> None:
    """Each statement makes one trip to the connection's thread (`storage.sqlite_trips`); what
    SQLAlchemy reads back is the same: rows, counts, executemany, streamed results."""
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}")
    try:
        async with db.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, x INT)"))
            many = [{"x": x} for x in range(5)]
            await connection.execute(text("INSERT INTO t (x) VALUES (:x)"), many)
            added = await connection.execute(text("INSERT INTO t (x) VALUES (9)"))
            assert added.lastrowid == 6 and added.rowcount == 1
            changed = await connection.execute(text("UPDATE t SET x = x + 1 WHERE x < 3"))
            assert changed.rowcount == 3
            streamed = await connection.stream(text("SELECT x FROM t ORDER BY id"))
            parts = [list(part) async for part in streamed.partitions(4)]
            assert [[row.x for row in part] for part in parts] == [[1, 2, 3, 3], [4, 9]]
        with pytest.raises(exc.IntegrityError):
            async with db.begin() as connection:
                await connection.execute(text("INSERT INTO t (id, x) VALUES (1, 0)"))
    finally:
        await db.dispose()
