"""Copy a whole database into an empty one (SQLite to PostgreSQL and back): `db copy`.

Rows are copied verbatim, table by table in the order of their foreign keys, in batches read
from one consistent snapshot of the source. The target gets its schema from the migrations and
takes the copy in one transaction, which commits only when every table holds as many rows as
in the source: a failed copy leaves the target empty. Messenger ids are stored sealed and
hashed with keys kept outside the database, so the copy is readable with the same keys and
identifies nobody without them. On PostgreSQL the id sequences are moved past the copied ids.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Integer, Table, func, insert, make_url, select, text, update
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers the tables)
from storage.db import is_sqlite, make_engine
from storage.identity import IdentityKeys
from storage.schema import ensure_schema, require_current

BATCH = 1000
Progress = Callable[[int, int], None]
"""Told how many rows were just copied, and how many there are in all."""


class CannotOpen(RuntimeError):
    """A database of the copy cannot be opened (a bad URL, a missing file, no server); the
    message is the error's first line, without statements or parameters."""


class TargetNotEmpty(RuntimeError):
    """The target already holds data: a copy never mixes two databases."""


class CountsDiffer(RuntimeError):
    """A table holds a different number of rows after the copy; nothing was committed."""

    def __init__(self, counts: list[TableCount]) -> None:
        super().__init__(", ".join(f"{c.table} {c.source}/{c.target}" for c in counts))
        self.counts = counts


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    source: int
    target: int


async def open_database(url: str, *, source: bool) -> AsyncEngine:
    """An engine on `url` that has answered once. A source on SQLite must exist: opening a
    missing file would create it, empty."""
    try:
        if source:
            _must_exist(url)
        engine = make_engine(url, for_reading=source)
    except (ArgumentError, OSError, SQLAlchemyError) as error:
        raise CannotOpen(_first_line(error)) from error
    try:
        async with engine.connect():
            pass
    except (OSError, SQLAlchemyError) as error:
        await engine.dispose()
        raise CannotOpen(_first_line(error)) from error
    return engine


def _must_exist(url: str) -> None:
    name = make_url(url).database
    if is_sqlite(url) and name and name != ":memory:" and not Path(name).exists():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def tables() -> list[Table]:
    """Every table, parents before the tables that refer to them."""
    return list(SQLModel.metadata.sorted_tables)


async def count_rows(connection: AsyncConnection) -> dict[str, int]:
    """Rows per table."""
    return {
        table.name: await connection.scalar(select(func.count()).select_from(table)) or 0
        for table in tables()
    }


async def copy_database(
    source: AsyncEngine,
    target: AsyncEngine,
    keys: IdentityKeys,
    *,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> list[TableCount]:
    """Copy every row of `source` into `target` (created by the migrations if new, and empty);
    the rows per table on both sides, equal, or `CountsDiffer` and nothing committed."""
    await require_current(source)
    await ensure_schema(target, keys)
    async with source.connect() as reading, target.begin() as writing:
        if reading.dialect.name == "postgresql":
            await reading.execution_options(isolation_level="REPEATABLE READ")
        await reading.begin()
        if any((await count_rows(writing)).values()):
            raise TargetNotEmpty
        before = await count_rows(reading)
        total = sum(before.values())

        def copied(rows: int) -> None:
            if progress is not None:
                progress(rows, total)

        for table in tables():
            await _copy_table(reading, writing, table, batch, copied)
        if writing.dialect.name == "postgresql":
            await _move_sequences(writing)
        after = await count_rows(writing)
        counts = [TableCount(name, before[name], after[name]) for name in before]
        if any(count.source != count.target for count in counts):
            raise CountsDiffer(counts)  # leaving the block rolls the copy back
    return counts


async def _copy_table(
    reading: AsyncConnection,
    writing: AsyncConnection,
    table: Table,
    batch: int,
    copied: Callable[[int], None],
) -> None:
    """Stream the table in batches; a column that refers to its own table (an agency's parent)
    is filled in after every row exists, since a parent may come after its child."""
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    key = list(table.primary_key.columns)
    links: list[dict[str, object]] = []
    result = await reading.stream(select(table).order_by(*key))
    async for rows in result.partitions(batch):
        values = [dict(row._mapping) for row in rows]
        await writing.execute(insert(table), [{**row, **dict.fromkeys(own)} for row in values])
        links += [row for row in values if any(row[name] is not None for name in own)]
        copied(len(values))
    for row in links:
        await writing.execute(
            update(table)
            .where(*(column == row[column.name] for column in key))
            .values({name: row[name] for name in own})
        )


async def _move_sequences(writing: AsyncConnection) -> None:
    """Set each serial id's sequence past the largest copied id, so new rows get fresh ids."""
    for table in tables():
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, Integer):
            continue
        await writing.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"coalesce((SELECT max({key[0].name}) FROM {table.name}), 0) + 1, false)"
            ),
            {"table": table.name, "column": key[0].name},
        )
