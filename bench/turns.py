"""Submit-to-commit latency of the turn engine at 1, 10 and 100 chats at once.

Run: .venv/bin/python -m bench.turns [--chats 1 10 100] [--turns 1900] [--postgres URL]
Each chat types whole ratings in the terminal channel (consent, agency search, service, 11
answers, comment, submit: 19 turns each) and sends its next line as soon as the previous turn has
committed, as a person tapping through would. A turn's latency runs from `engine.handle` being
called to its commit: the wait for the chat's lock and for the one SQLite writer is included.
CPU per turn (all threads of the process) is the engine's work, not counting the waits.
With --postgres URL (an empty database made for it, such as
postgresql+asyncpg://postgres@127.0.0.1:5432/feedbackbot_bench) the same runs on PostgreSQL too.
Delivery is not measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from bot.channels.console import CHANNEL, ConsoleChannel, console_incoming
from bot.config import Settings
from bot.engine import TurnEngine
from bot.runtime import Runtime, freeze_startup_objects, open_runtime
from storage.models import Rating

# consent, menu, agency by name, service, five factors (feedback skipped), late, apology yes,
# no extra papers, two trips, online, no unofficial payment, a comment, submit.
SCRIPT = ["/start", "1", "1", "tu phap", "1", "1", "4", "5", "3", "2", "6", "3", "1", "2", "3",
          "2", "2", "Cảm ơn.", "1"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Figures:
    """One level: what ran, how long it took, and every turn's latency."""

    chats: int
    turns: int
    ratings: int
    seconds: float
    cpu_seconds: float
    latencies: list[float]

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000

    def line(self, database: str) -> str:
        return (
            f"{database:<10} {self.chats:>5} {self.turns:>6} {self.ratings:>7} "
            f"{self.turns / self.seconds:>8.0f} "
            f"{self.cpu_seconds / self.turns * 1000:>8.2f} {self.percentile(0.50):>7.1f} "
            f"{self.percentile(0.95):>7.1f} {self.percentile(0.99):>7.1f}"
        )


HEADER = f"{'database':<10} {'chats':>5} {'turns':>6} {'ratings':>7} {'turns/s':>8} " + (
    f"{'CPU ms':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
)


async def citizen(engine: TurnEngine, name: str, ratings: int, latencies: list[float]) -> None:
    """Walk `ratings` whole ratings, each as a new chat, one line right after the other."""
    for number in range(ratings):
        chat_id = f"{name}-{number}"
        for line in SCRIPT:
            started = time.perf_counter()
            await engine.handle(console_incoming(line, chat_id=chat_id))
            latencies.append(time.perf_counter() - started)


async def measure(url: str, chats: int, turns: int) -> Figures:
    """A warm-up rating, then `chats` chats at once for about `turns` turns."""
    settings = Settings(database_url=url, _env_file=None)
    runtime = await open_runtime(settings, {CHANNEL: ConsoleChannel(write=lambda _c, _t: None)})
    freeze_startup_objects()  # as `feedbackbot run` does
    run = uuid.uuid4().hex[:8]  # new chats every run, even on a database used before
    try:
        await citizen(runtime.engine, f"{run}-warm-up", 1, [])
        before = await count_ratings(runtime)
        ratings = max(1, turns // (chats * len(SCRIPT)))
        latencies: list[float] = []
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(
            *(citizen(runtime.engine, f"{run}-{n}", ratings, latencies) for n in range(chats))
        )
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        stored = await count_ratings(runtime) - before
    finally:
        await runtime.close()
    return Figures(chats, len(latencies), stored, seconds, cpu_seconds, latencies)


async def count_ratings(runtime: Runtime) -> int:
    async with runtime.reads() as session:
        return await session.scalar(select(func.count()).select_from(Rating)) or 0


def machine() -> str:
    """What the figures were measured on."""
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), {platform.python_implementation()} "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.system()}; "
        f"load average before the run {load}"
    )


async def main(levels: list[int], turns: int, postgres: str | None) -> None:
    print(machine())
    print(HEADER)
    with tempfile.TemporaryDirectory() as folder:
        sqlite = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        for chats in levels:
            print((await measure(sqlite, chats, turns)).line("sqlite"), flush=True)
            if postgres:
                print((await measure(postgres, chats, turns)).line("postgresql"), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--turns", type=int, default=1900, help="about this many per level")
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.chats, arguments.turns, arguments.postgres))
