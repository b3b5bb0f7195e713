"""The scheduler's round beside live chats: 2,000 open cases (default) on SQLite, then
- a catch-up round (every case opened over the last two weeks, about two thirds past a deadline),
- a steady round a minute later (nothing new due), as the bot runs one every minute,
each timed, with the longest write transaction, while a few citizens keep sending /start and the
dispatcher delivers: how long their replies took. The same catch-up work done in one transaction
(the round's old shape) runs on a copy for comparison.

Run: .venv/bin/python -m bench.scheduler_round [--cases 2000] [--citizens 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from bot.channels.console import CHANNEL, ConsoleChannel, console_incoming
from bot.config import Settings
from bot.runtime import Runtime, freeze_startup_objects, open_runtime
from bot.scheduler import paced
from handlers.casework.escalation import DueWork, run_due
from handlers.flow import Turn
from storage.models import Case
from tests.casework import bulk_cases, officer
from tests.conftest import Clock
from tests.transactions import Transactions

Round = Callable[[Runtime], Awaitable[int]]


async def small_steps(runtime: Runtime) -> int:
    """The round as the scheduler runs it (the purge left out: it has nothing to do here)."""
    return await run_due(paced(runtime.engine.run_job))


async def one_transaction(runtime: Runtime) -> int:
    """The same work in a single transaction, as the round once was."""

    async def everything(turn: Turn) -> None:
        work = DueWork()
        await work.select(turn)
        for job in work.jobs():
            await job(turn)

    return await runtime.engine.run_job(everything)


@dataclass(slots=True)
class Replies:
    """Citizens who send /start again and again: how long each took to commit (the turn), and
    until the dispatcher delivered its reply."""

    waiting: dict[str, asyncio.Event] = field(default_factory=dict)
    committed: list[float] = field(default_factory=list)
    delivered_after: list[float] = field(default_factory=list)

    def delivered(self, chat: str, _text: str) -> None:
        if chat in self.waiting:
            self.waiting[chat].set()

    async def keep_asking(self, runtime: Runtime, chat: str, until: asyncio.Task[Any]) -> None:
        while not until.done():
            self.waiting[chat] = answered = asyncio.Event()
            started = time.perf_counter()
            await runtime.engine.handle(console_incoming("/start", chat_id=chat))
            self.committed.append(time.perf_counter() - started)
            await answered.wait()
            self.delivered_after.append(time.perf_counter() - started)
            await asyncio.sleep(0.2)


async def world(folder: Path, cases: int, replies: Replies, clock: Clock) -> Runtime:
    """The sample directory, the leaders who are told, `cases` open cases opened over two
    weeks, every other one acknowledged."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / f'{uuid.uuid4().hex}.sqlite3'}",
        _env_file=None,
    )
    output: list[tuple[str, str]] = []

    def write(chat: str, text: str) -> None:
        output.append((chat, text))
        replies.delivered(chat, text)

    runtime = await open_runtime(settings, {CHANNEL: ConsoleChannel(write=write)}, clock=clock)
    for chat, agency, role in (("desk", "615-MC", "leader"), ("district", "615", "leader")):
        await officer(runtime, output, chat, agency, role)
    await officer(runtime, output, "intake", "62-SNV", "admin")
    span = timedelta(days=14)
    await bulk_cases(runtime, [clock.now - span * n / cases for n in range(cases)])
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(Case)
            .where(Case.id % 2 == 0)
            .values(state="acknowledged", acknowledged_at=Case.created_at)
        )
    freeze_startup_objects()  # as `feedbackbot run` does
    return runtime


async def measure(
    runtime: Runtime, round_: Round, citizens: int, replies: Replies, transactions: Transactions
) -> str:
    transactions.clear()
    started = time.perf_counter()
    running = asyncio.create_task(round_(runtime))
    askers = [
        asyncio.create_task(replies.keep_asking(runtime, f"citizen-{n}", running))
        for n in range(citizens)
    ]
    queued = await running
    elapsed = time.perf_counter() - started
    figures = (
        f"{elapsed:6.2f} s, {queued} messages queued, {len(transactions.ended)} write"
        f" transactions, the round's longest {transactions.longest(running) * 1000:.1f} ms"
        f" (most CPU {transactions.most_cpu(running) * 1000:.1f} ms)"
        f" (anyone's {transactions.longest() * 1000:.1f} ms)"
    )
    await asyncio.gather(*askers)
    figures += (
        f"; {len(replies.committed)} /start: committed {spread(replies.committed)},"
        f" delivered {spread(replies.delivered_after)}"
    )
    replies.committed.clear()
    replies.delivered_after.clear()
    return figures


def spread(seconds: list[float]) -> str:
    ordered = sorted(seconds) or [0.0]
    return f"median {statistics.median(ordered) * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"


async def variant(folder: Path, name: str, round_: Round, cases: int, citizens: int) -> None:
    replies, clock = Replies(), Clock()
    runtime = await world(folder, cases, replies, clock)
    transactions = Transactions(runtime.db)
    delivery = asyncio.create_task(runtime.dispatcher.run())
    watched = (runtime, round_, citizens, replies, transactions)
    try:
        print(f"{name}, catch-up round: {await measure(*watched)}")
        clock.advance(minutes=1)
        print(f"{name}, steady round:   {await measure(*watched)}")
    finally:
        delivery.cancel()
        await asyncio.gather(delivery, return_exceptions=True)
        await runtime.close()


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} cores, {model}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()}; load average "
        f"{os.getloadavg()[0]:.1f} at start"
    )


async def main(cases: int, citizens: int) -> None:
    print(f"machine: {machine()}")
    print(f"{cases} open cases on SQLite (WAL), {citizens} citizens sending /start meanwhile")
    with tempfile.TemporaryDirectory() as folder:
        await variant(Path(folder), "small steps    ", small_steps, cases, citizens)
        await variant(Path(folder), "one transaction", one_transaction, cases, citizens)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--citizens", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.cases, arguments.citizens))
