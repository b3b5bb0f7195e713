"""How fast the turn engine handles a whole rating on SQLite: turns per second and latency.

Run: .venv/bin/python -m bench.turns [--citizens 50]
Each simulated citizen types a full rating in the terminal channel (consent, agency search,
service, 11 answers, comment, submit: 19 turns), several citizens at once. Every turn is one
BEGIN IMMEDIATE transaction with its outbox rows; delivery is measured separately.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bot.channels.console import CHANNEL, ConsoleChannel, console_incoming
from bot.config import Settings
from bot.runtime import open_runtime
from storage.models import Rating

# consent, menu, agency by name, service, five factors (feedback skipped), late, apology yes,
# no extra papers, two trips, online, no unofficial payment, a comment, submit.
SCRIPT = ["/start", "1", "1", "tu phap", "1", "1", "4", "5", "3", "2", "6", "3", "1", "2", "3",
          "2", "2", "Cảm ơn.", "1"]  # fmt: skip


async def citizen(engine: object, chat_id: str, latencies: list[float]) -> None:
    for line in SCRIPT:
        started = time.perf_counter()
        await engine.handle(console_incoming(line, chat_id=chat_id))  # type: ignore[attr-defined]
        latencies.append(time.perf_counter() - started)


async def main(citizens: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", _env_file=None
        )
        runtime = await open_runtime(
            settings, {CHANNEL: ConsoleChannel(write=lambda _chat, _text: None)}
        )
        latencies: list[float] = []
        slots = asyncio.Semaphore(concurrency)

        async def one(number: int) -> None:
            async with slots:
                await citizen(runtime.engine, f"bench-{number}", latencies)

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(citizens)))
        turns_elapsed = time.perf_counter() - started

        started = time.perf_counter()
        sent = 0
        while (batch := await runtime.dispatcher.deliver_due()) > 0:
            sent += batch
        delivery_elapsed = time.perf_counter() - started
        async with runtime.sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(Rating))
        await runtime.close()

    latencies.sort()
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()}"
    )
    print(
        f"citizens: {citizens} (at most {concurrency} at once), turns: {len(latencies)}, "
        f"ratings stored: {stored}"
    )
    print(f"turns per second: {len(latencies) / turns_elapsed:.0f}")
    print(
        f"turn latency: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms"
    )
    print(f"outbox delivery to the terminal channel: {sent / delivery_elapsed:.0f} messages/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.citizens, arguments.concurrency))
