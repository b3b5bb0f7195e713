"""One writer at a time, and few statements per turn.

Statements are counted on the writers' engine with SQLAlchemy's cursor events, per kind of turn:
a budget here fails the moment a change makes a turn do more work than it did when measured.
On SQLite a turn's trips to the database's thread are its statements (BEGIN travels with the
first) and the COMMIT, nothing else.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, exc, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.console import console_incoming
from bot.runtime import Runtime
from handlers.flow import Turn
from handlers.messages import Incoming
from storage.db import checkpoint, make_engine
from storage.models import Citizen, Conversation, Rating
from tests.casework import bulk_cases, officer
from tests.conftest import Chat
from tests.test_rating_dialogue import answer_rest, open_rating

PRESS_BUDGET = 4
"""A pressed answer in the rating: claim the update, read the conversation, save it, queue the
next question."""
SUMMARY_BUDGET = 6
"""The press that leads to the summary: those four and the agency's and service's names."""
SUBMIT_BUDGET = 8
"""The final submit: the four, the citizen, the rating, its day's roll-up, and the second reply
(one INSERT per outbox row)."""


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

    def _statement(self, _connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE: counted as a begin
            self.statements.append(statement)

    def _begin(self, _connection: Any) -> None:
        self.transactions += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)

    def _end(self, _connection: Any) -> None:
        self.open -= 1


async def button(chat: Chat, label_part: str) -> Incoming:
    """A press of a button of the last question, as Telegram sends it (token and option id)."""
    async with chat.runtime.sessions() as session:
        conversation = await session.get(Conversation, ("console", chat.ref()))
    assert conversation is not None
    offered = conversation.offered
    [choice] = [id_ for id_, label in offered["choices"] if label_part in label]
    return chat.incoming(choice_token=f"{offered['token']}:{choice}")


async def trips(engine: AsyncEngine) -> int:
    """Calls made so far on the SQLite writer's one connection (`sqlite_trips`)."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        return int(raw.driver_connection.trips)  # type: ignore[union-attr]


async def counted(ledger: Ledger, chat: Chat, label_part: str) -> list[str]:
    """The statements of one press; on SQLite, every trip to the database is one of them
    (the first carrying the BEGIN) or the COMMIT: no rollback when the connection goes back to
    its pool."""
    pressed = await button(chat, label_part)
    sqlite = chat.runtime.db.dialect.name == "sqlite"
    before = await trips(chat.runtime.db) if sqlite else 0
    ledger.clear()
    await chat.runtime.engine.handle(pressed)
    assert ledger.transactions == 1, "one transaction per turn"
    if sqlite:
        assert await trips(chat.runtime.db) - before == len(ledger.statements) + 1
    return ledger.statements


async def test_rating_presses_and_the_submit_stay_within_their_budgets(consented: Chat) -> None:
    ledger = Ledger(consented.runtime.db)
    await open_rating(consented)
    assert len(await counted(ledger, consented, "4 –")) <= PRESS_BUDGET
    assert len(await counted(ledger, consented, "Quay lại")) <= PRESS_BUDGET
    await answer_rest(consented)
    assert len(await counted(ledger, consented, "Không có góp ý")) <= SUMMARY_BUDGET
    submit = await counted(ledger, consented, "Gửi đánh giá")
    assert len(submit) <= SUBMIT_BUDGET, submit
    assert len(await consented.rows(Rating)) == 1


@pytest.mark.sqlite
async def test_concurrent_writers_queue_in_the_process_not_in_sqlite(consented: Chat) -> None:
    """With SQLite's busy handler switched off, any two writers meeting inside SQLite would
    fail at once ("database is locked"): turns of many chats, delivery passes and a scheduler
    job all at the same time must still all succeed, one transaction open at a time."""
    runtime = consented.runtime
    assert runtime.db.dialect.name == "sqlite", "the in-process write gate is SQLite's"
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


async def test_the_case_list_costs_the_same_statements_for_one_case_as_for_many(
    runtime: tuple[Runtime, list[tuple[str, str]]],
) -> None:
    """The cases and their reports come in one query, not one more per case listed."""
    rt, output = runtime
    leader = await officer(rt, output, "leader-mc", "615-MC", "leader")
    ledger = Ledger(rt.db)
    now = rt.engine._clock()
    await bulk_cases(rt, [now])
    ledger.clear()
    assert "#" in await leader.say("/cases")
    one = list(ledger.statements)
    await bulk_cases(rt, [now] * 6)
    ledger.clear()
    await leader.say("/cases")
    assert len(ledger.statements) == len(one), ledger.statements


async def test_a_summary_adds_up_its_figures_outside_the_write_transaction(
    consented: Chat,
) -> None:
    """/summary's turn only checks who asks and records it; the roll-ups are read afterwards
    on a read connection, so no writer waits while a year is added up."""
    runtime = consented.runtime
    admin = await officer(runtime, consented.output, "intake", "62-SNV", "admin")
    ledger = Ledger(runtime.db)
    out = await admin.say("/summary year")
    assert "Toàn tỉnh" in out and "đánh giá" in out, out
    assert ledger.statements and not any("ratingdaily" in s for s in ledger.statements)


async def test_commits_leave_the_checkpoint_to_another_connection(tmp_path: Path) -> None:
    """SQLite's automatic checkpoint runs inside the COMMIT that takes the log past 1,000
    pages, holding the one writer; the bot's writer leaves it to a reading connection."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}"
    wal = tmp_path / "w.sqlite3-wal"
    writer = make_engine(url, checkpoints=False)
    reader = make_engine(url, for_reading=True)

    async def burst() -> None:
        for _ in range(12):
            async with writer.begin() as connection:
                rows = [{"x": "y" * 4000}] * 100
                await connection.execute(text("INSERT INTO ballast (x) VALUES (:x)"), rows)

    try:
        async with writer.begin() as connection:
            await connection.execute(text("CREATE TABLE ballast (x TEXT)"))
        await burst()
        grown = wal.stat().st_size
        assert grown > 1000 * 4096, "past the automatic checkpoint's threshold"
        await burst()
        assert wal.stat().st_size > 1.8 * grown, "no commit checkpointed: the log only grew"
        await checkpoint(reader)
        await burst()
        await burst()
        assert wal.stat().st_size < 2.9 * grown, "after the checkpoint the log started over"
    finally:
        await reader.dispose()
        await writer.dispose()


@pytest.mark.sqlite  # a PostgreSQL server checkpoints by itself
async def test_the_runtime_keeps_the_log_checkpointed(consented: Chat) -> None:
    runtime = consented.runtime
    async with runtime.db.connect() as connection:
        automatic = await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")
        assert automatic.scalar() == 0
    assert runtime.checkpoints is not None and not runtime.checkpoints.done()
