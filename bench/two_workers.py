"""Two `feedbackbot serve` workers on PostgreSQL against one: updates/s, in the same run.

Run: .venv/bin/python -m bench.two_workers [--postgres URL] [--citizens 100] [--steps 10]
     [--rounds 2]

Each configuration gets a fresh database (migrated, sample directory) on the PostgreSQL server
of `--postgres` (an admin URL, trust auth), its own local fake Bot API (tests.fakes) and its
`feedbackbot serve` processes (tests.workers), with pacing lifted. Citizens all write at once,
each update of a citizen posted after the previous one was answered 200 (committed), spread
over the workers in turn as a reverse proxy would; the clock stops when the last reply has been
sent. Then every chat's sent messages are compared with its outbox: each reply sent once, in
order. The configurations alternate round by round, so load from elsewhere hits both alike.
Issue 11's target: ≥ 1.6× on ≥ 4 cores; on 2 cores ≥ 1.0×.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.end_to_end import load, machine
from bot.config import Settings
from bot.runtime import prepare_database
from storage.models import OutboxMessage
from storage.outbox import PENDING
from tests.fakes import FakeTelegramServer
from tests.workers import Worker, deliver, says, sent_texts, serve_worker, written

SETTLE_SECONDS = 120.0


class Namespace(argparse.Namespace):
    postgres: str
    citizens: int
    steps: int
    rounds: int


@dataclass
class Result:
    workers: int
    updates: int = 0
    seconds: float = 0.0
    rounds: list[float] = field(default_factory=list)
    sent_once: bool = True

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0


@contextlib.asynccontextmanager
async def fresh_database(
    admin: str,
) -> AsyncIterator[tuple[str, async_sessionmaker[AsyncSession]]]:
    """A new database, migrated and holding the sample directory, dropped afterwards: its URL
    and sessions on it (to watch the outbox)."""
    name = f"feedbackbot_bench_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{url}/{name}"
    db, sessions = await prepare_database(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    try:
        yield url, sessions
    finally:
        await db.dispose()
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await connection.close()


async def one_round(result: Result, args: Namespace, folder: Path) -> None:
    """`result.workers` workers on a fresh database, every citizen through all steps."""
    chats = list(range(1001, 1001 + args.citizens))
    async with (
        fresh_database(args.postgres) as (url, sessions),
        FakeTelegramServer() as tg,
        contextlib.AsyncExitStack() as stack,
        httpx.AsyncClient(trust_env=False, timeout=60) as http,
    ):
        workers: list[Worker] = [
            await stack.enter_async_context(serve_worker(tg, url, folder))
            for _ in range(result.workers)
        ]
        started = time.perf_counter()

        async def citizen(chat: int) -> None:
            for step in range(args.steps):
                turn = (chat + step) % len(workers)
                await deliver(
                    http, tg.send_text(chat, says(step)), workers[turn:] + workers[:turn]
                )

        await asyncio.gather(*(citizen(chat) for chat in chats))
        await settled(sessions)
        elapsed = time.perf_counter() - started
        expected = await written(sessions, chats)
        result.sent_once &= all(
            sent_texts(tg, chat) == [text for _, text in expected[chat]] for chat in chats
        )
    updates = args.citizens * args.steps
    result.updates += updates
    result.seconds += elapsed
    result.rounds.append(updates / elapsed)


async def settled(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Until no reply waits in the outbox."""
    unsent = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING)
    async with asyncio.timeout(SETTLE_SECONDS):
        while True:
            async with sessions() as session:
                if not await session.scalar(unsent):
                    return
            await asyncio.sleep(0.02)


def report(results: Sequence[Result], args: Namespace, loads: Sequence[str]) -> None:
    one, two = results
    print(f"machine: {machine()}; load average before {loads[0]}, after {loads[1]}")
    print(
        f"load: {args.citizens} citizens at once, {args.steps} updates each, by webhook, "
        f"{args.rounds} round(s) per configuration, PostgreSQL"
    )
    for result in results:
        rounds = ", ".join(f"{value:.1f}" for value in result.rounds)
        print(
            f"{result.workers} worker(s): {result.updates} updates in {result.seconds:.1f} s = "
            f"{result.per_second:.1f} updates/s (rounds: {rounds}); every reply sent once, "
            f"in order: {'yes' if result.sent_once else 'NO'}"
        )
    ratio = two.per_second / one.per_second if one.per_second else 0.0
    print(f"ratio two workers / one: {ratio:.2f}× (issue 11: ≥ 1.6× on ≥ 4 cores, ≥ 1.0× on 2)")


async def main(args: Namespace) -> None:
    loads = [load()]
    results = [Result(1), Result(2)]
    with tempfile.TemporaryDirectory(prefix="two-workers-") as folder:
        for number in range(args.rounds):
            for result in results if number % 2 == 0 else reversed(results):
                await one_round(result, args, Path(folder))
    loads.append(load())
    report(results, args, loads)


def arguments() -> Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="admin URL of the PostgreSQL server",
    )
    parser.add_argument("--citizens", type=int, default=100, help="citizens writing at once")
    parser.add_argument("--steps", type=int, default=10, help="updates per citizen")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each configuration")
    return parser.parse_args(namespace=Namespace())


if __name__ == "__main__":
    try:
        asyncio.run(main(arguments()))
    except KeyboardInterrupt:
        sys.exit("interrupted; the workers were stopped and their databases dropped")
