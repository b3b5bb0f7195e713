"""Other chats' replies while an admin's in-chat /export of a year (200,000 ratings by default)
is built and sent: how long each citizen's /start took to commit and to be delivered, against
the same citizens with no export running, in the same run. The export runs as in the bot: the
dispatcher makes the file in a worker thread on a read engine when it delivers the reply.

Run: .venv/bin/python -m bench.export_stall [--ratings 200000] [--citizens 5] [--format xlsx]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.scheduler_round import Replies, machine, spread
from bot import demo
from bot.channels.console import CHANNEL, ConsoleChannel, console_incoming
from bot.config import Settings
from bot.runtime import Runtime, freeze_startup_objects, open_runtime
from tests.casework import officer
from tests.conftest import Clock


async def asking(
    runtime: Runtime, replies: Replies, citizens: int, until: asyncio.Task[Any]
) -> str:
    """Citizens send /start again and again until `until` ends; their figures."""
    await asyncio.gather(
        *(replies.keep_asking(runtime, f"citizen-{n}", until) for n in range(citizens))
    )
    figures = (
        f"{len(replies.committed)} /start: committed {spread(replies.committed)}, "
        f"delivered {spread(replies.delivered_after)}"
    )
    replies.committed.clear()
    replies.delivered_after.clear()
    return figures


@contextlib.asynccontextmanager
async def year_of_ratings(
    folder: Path,
    write: Callable[[str, str], None],
    clock: Clock,
    ratings: int,
    prepare: Callable[[Runtime], Awaitable[object]] | None = None,
) -> AsyncIterator[tuple[Runtime, Settings]]:
    """A runtime on a new SQLite file in `folder` with `ratings` ratings seeded over the year
    before `clock`, `prepare` done (while the test helpers still deliver the replies
    themselves), its startup objects frozen and the dispatcher delivering; closed after."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / f'{uuid.uuid4().hex}.sqlite3'}",
        _env_file=None,
    )
    runtime = await open_runtime(settings, {CHANNEL: ConsoleChannel(write=write)}, clock=clock)
    delivery: asyncio.Task[None] | None = None
    try:
        started = time.perf_counter()
        await demo.seed(
            runtime.sessions, ratings=ratings, reports=200, seed_value=7, now=clock.now
        )
        print(f"seeded {ratings} ratings in {time.perf_counter() - started:.0f} s")
        if prepare is not None:
            await prepare(runtime)
        freeze_startup_objects()  # as `feedbackbot run` and `serve` do
        delivery = asyncio.create_task(runtime.dispatcher.run())  # the seed is one long write
        yield runtime, settings
    finally:
        if delivery is not None:
            delivery.cancel()
            await asyncio.gather(delivery, return_exceptions=True)
        await runtime.close()


async def main(ratings: int, citizens: int, file_format: str) -> None:
    print(f"machine: {machine()}")
    replies, clock = Replies(), Clock()
    exported = asyncio.Event()
    output: list[tuple[str, str]] = []
    suffix = ".xlsx ·" if file_format == "xlsx" else ".zip ·"

    def write(chat: str, text: str) -> None:
        output.append((chat, text))
        replies.delivered(chat, text)
        if chat == "intake" and suffix in text:
            exported.set()

    with tempfile.TemporaryDirectory() as folder:
        admin = partial(officer, output=output, chat_id="intake", agency="51-SNV", role="admin")
        async with year_of_ratings(Path(folder), write, clock, ratings, admin) as (runtime, _):
            quiet = asyncio.create_task(asyncio.sleep(5))
            print(f"no export, 5 s:  {await asking(runtime, replies, citizens, quiet)}")
            started = time.perf_counter()
            await runtime.engine.handle(
                console_incoming(f"/export year {file_format}", chat_id="intake")
            )
            export = asyncio.create_task(exported.wait())
            during = await asking(runtime, replies, citizens, export)
            await export
            print(f"during the export ({time.perf_counter() - started:.1f} s): {during}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ratings", type=int, default=200_000)
    parser.add_argument("--citizens", type=int, default=5)
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.ratings, arguments.citizens, arguments.format))
