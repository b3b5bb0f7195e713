"""Watching the transactions of an engine: how long each held it, how many statements it ran."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
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


class Transactions:
    """Every transaction that ends on an engine while watched; `under_way` is set when the
    first begins."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.ended: list[Ended] = []
        self.under_way = asyncio.Event()
        self._open: dict[int, tuple[float, int]] = {}
        self._sync = engine.sync_engine
        for name, listener in self._listeners():
            event.listen(self._sync, name, listener)

    def longest(self, task: asyncio.Task[Any] | None = None) -> float:
        """The longest transaction (of `task` when given), in seconds."""
        return max((e.seconds for e in self._of(task)), default=0.0)

    def most_statements(self, task: asyncio.Task[Any] | None = None) -> int:
        return max((e.statements for e in self._of(task)), default=0)

    def _of(self, task: asyncio.Task[Any] | None) -> list[Ended]:
        return [e for e in self.ended if task is None or e.task is task]

    def stop(self) -> None:
        for name, listener in self._listeners():
            event.remove(self._sync, name, listener)

    def _listeners(self) -> list[tuple[str, Callable[..., None]]]:
        return [
            ("begin", self._begin),
            ("before_cursor_execute", self._statement),
            ("commit", self._end),
            ("rollback", self._end),
        ]

    def _begin(self, connection: Connection) -> None:
        self._open[id(connection)] = (time.perf_counter(), 0)
        self.under_way.set()

    def _statement(self, connection: Connection, *_: object) -> None:
        if id(connection) in self._open:
            started, count = self._open[id(connection)]
            self._open[id(connection)] = (started, count + 1)

    def _end(self, connection: Connection) -> None:
        started, count = self._open.pop(id(connection), (time.perf_counter(), 0))
        seconds = time.perf_counter() - started
        self.ended.append(Ended(asyncio.current_task(), seconds, count))
