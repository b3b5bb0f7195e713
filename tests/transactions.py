"""Watching the transactions of an engine: how long each held it, how many statements it ran."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True, slots=True)
class Ended:
    task: asyncio.Task[Any] | None
    """The task that ran it: the scheduler's round, a turn, the dispatcher."""
    seconds: float
    """From its begin (on SQLite, once BEGIN IMMEDIATE has the write lock) to its end."""
    statements: int
    cpu_seconds: float = 0.0
    """The process's CPU time meanwhile: on a loaded machine, the part of `seconds` that was
    work rather than waiting for a core."""


class Transactions:
    """Every transaction that ends on an engine while watched; `under_way` is set when the
    first begins."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.ended: list[Ended] = []
        self.under_way = asyncio.Event()
        self._open: dict[int, tuple[float, int, float]] = {}
        sync = engine.sync_engine
        event.listen(sync, "begin", self._begin)
        event.listen(sync, "before_cursor_execute", self._statement)
        event.listen(sync, "commit", self._end)
        event.listen(sync, "rollback", self._end)

    def longest(self, task: asyncio.Task[Any] | None = None) -> float:
        """The longest transaction (of `task` when given), in seconds."""
        return max((e.seconds for e in self._of(task)), default=0.0)

    def most_cpu(self, task: asyncio.Task[Any] | None = None) -> float:
        """The most CPU seconds any transaction (of `task` when given) took."""
        return max((e.cpu_seconds for e in self._of(task)), default=0.0)

    def most_statements(self, task: asyncio.Task[Any] | None = None) -> int:
        return max((e.statements for e in self._of(task)), default=0)

    def _of(self, task: asyncio.Task[Any] | None) -> list[Ended]:
        return [e for e in self.ended if task is None or e.task is task]

    def clear(self) -> None:
        """Forget what ended so far (listeners are added once: adding or removing one while a
        connection's BEGIN IMMEDIATE awaits breaks that connection's begin)."""
        self.ended.clear()

    def _begin(self, connection: Connection) -> None:
        self._open[id(connection)] = (time.perf_counter(), 0, time.process_time())
        self.under_way.set()

    def _statement(self, connection: Connection, *_: object) -> None:
        if id(connection) in self._open:
            started, count, cpu = self._open[id(connection)]
            self._open[id(connection)] = (started, count + 1, cpu)

    def _end(self, connection: Connection) -> None:
        now, cpu_now = time.perf_counter(), time.process_time()
        started, count, cpu = self._open.pop(id(connection), (now, 0, cpu_now))
        self.ended.append(Ended(asyncio.current_task(), now - started, count, cpu_now - cpu))
