"""Builds what every command needs from the settings: database, schema, directory, engine."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.base import Channel
from bot.charts import chart_maker, summary_maker
from bot.config import Settings
from bot.dispatcher import DeliveryPolicy, OutboxDispatcher
from bot.engine import TurnEngine
from bot.exports import export_maker
from handlers.clock import Clock, local_day, system_clock
from storage.db import checkpoint_now_and_then, is_sqlite, make_engine, make_sessionmaker
from storage.directory import directory_is_empty, import_directory, read_directory
from storage.schema import ensure_schema

log = logging.getLogger(__name__)


class DirectoryEmpty(Exception):
    """Production never loads the sample (its officials are fictional): the operator imports
    the real directory first."""


@dataclass(slots=True)
class Runtime:
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    engine: TurnEngine
    dispatcher: OutboxDispatcher
    reads: async_sessionmaker[AsyncSession]
    """Sessions for long reads (charts, exports, health) that must not hold up the turns."""
    reader: AsyncEngine
    checkpoints: asyncio.Task[None] | None = None
    """On SQLite, copies the WAL back into the database so that no writer's commit has to."""

    async def close(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.checkpoints
        await self.reader.dispose()
        await self.db.dispose()


def freeze_startup_objects() -> None:
    """Leave what the process loaded at start (modules, table mappings, catalogs, the
    directory) out of Python's cycle collector from now on. A full collection otherwise walks
    some 200,000 such objects, 0.1–0.4 s on the 2-core VM; falling inside a turn or a scheduler
    step, it held the one writer and every turn queued behind it. Called once the bot is up."""
    gc.collect()
    gc.freeze()


async def prepare_database(
    settings: Settings, *, checkpoints: bool = True
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """Open the database, create the schema of a new one; in development, load the sample
    directory into an empty one, in production refuse to start without a directory.
    `checkpoints=False`: the caller runs `checkpoint_now_and_then` (SQLite)."""
    db = make_engine(settings.database_url, checkpoints=checkpoints)
    keys = settings.identity_keys()
    try:
        if await ensure_schema(db, keys):
            log.info("created a new database schema")
        sessions = make_sessionmaker(db, keys)
        async with sessions() as session, session.begin():
            if await directory_is_empty(session=session):
                if settings.production:
                    raise DirectoryEmpty
                for path in (settings.directory_file, *settings.directory_history):
                    result = await import_directory(
                        read_directory(path), today=local_day(system_clock()), session=session
                    )
                    log.info(
                        "loaded the directory %s: %d entries added, %d updated, %d retired",
                        path,
                        len(result.added),
                        len(result.updated),
                        len(result.retired),
                    )
    except BaseException:
        await db.dispose()
        raise
    return db, sessions


async def open_runtime(
    settings: Settings,
    channels: Mapping[str, Channel],
    *,
    clock: Clock = system_clock,
    bot_username: str | None = None,
) -> Runtime:
    db, sessions = await prepare_database(settings, checkpoints=False)
    reader = make_engine(settings.database_url, for_reading=True)
    reads = make_sessionmaker(reader, settings.identity_keys())
    rules = settings.rules(bot_username=bot_username)
    # The engine wakes the dispatcher, which asks the engine to repeat a lost question: the
    # lambda reads `dispatcher` when called, after both exist.
    engine = TurnEngine(sessions, rules, clock=clock, on_outbox=lambda: dispatcher.wake())
    dispatcher = OutboxDispatcher(
        sessions,
        channels,
        policy=DeliveryPolicy(
            give_up_after=timedelta(hours=settings.send_give_up_hours),
            broadcast_per_second=settings.broadcast_per_second,
            lease_seconds=settings.outbox_lease_seconds,
        ),
        clock=clock,
        makers={
            "summary": summary_maker(reads),
            "chart": chart_maker(reads),
            "export": export_maker(settings.database_url),
        },
        ask_again=engine.ask_again,
    )
    checkpoints = (
        asyncio.create_task(checkpoint_now_and_then(reader))
        if is_sqlite(settings.database_url)
        else None
    )
    return Runtime(db, sessions, engine, dispatcher, reads, reader, checkpoints)
