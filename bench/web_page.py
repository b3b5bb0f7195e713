"""The public results page under many visitors, beside the bot's turns. A year of ratings
(200,000 by default) on SQLite; the page served by uvicorn in the bot's process and event loop,
as `feedbackbot serve` does; the visitors in a process of their own (as on other machines), each
asking for the year's page again as soon as it has it:
- cold: every visitor asks at once before anything is cached (they share one computation),
- cached: the same page for `--seconds`, within WEB_CACHE_SECONDS,
- uncached: the same with WEB_CACHE_SECONDS=0 (every request adds the year up again), the worst
  visitors varying the period could do,
while citizens keep sending /start: their replies against the same citizens' with no visitors,
in the same run.

Run: .venv/bin/python -m bench.web_page [--ratings 200000] [--visitors 20] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from bench.end_to_end import load, percentile
from bench.export_stall import asking, year_of_ratings
from bench.scheduler_round import Replies, machine
from bot.web import WebSettings, create_app
from tests.conftest import Clock
from tests.fakes.serving import serve

YEAR = "/?period=2025-12-01..2026-11-30"
"""The year of ratings the seed spreads before the clock's 30 Nov 2026."""


@dataclass(frozen=True, slots=True)
class Visits:
    latencies: list[float]
    seconds: float
    failures: int

    def line(self) -> str:
        pages = len(self.latencies)
        return (
            f"{pages} pages ({self.failures} not 200), {pages / self.seconds:.1f} pages/s, "
            f"p50 {percentile(self.latencies, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(self.latencies, 0.99) * 1000:.0f} ms, "
            f"max {max(self.latencies, default=0) * 1000:.0f} ms"
        )


async def _visit(url: str, visitors: int, seconds: float) -> Visits:
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=visitors)
    async with httpx.AsyncClient(limits=limits, timeout=300) as client:
        started = time.perf_counter()

        async def visitor() -> None:
            nonlocal failures
            while True:
                asked = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - asked)
                failures += response.status_code != 200
                if time.perf_counter() - started >= seconds:
                    return

        await asyncio.gather(*(visitor() for _ in range(visitors)))
        return Visits(latencies, time.perf_counter() - started, failures)


def visit(url: str, visitors: int, seconds: float) -> Visits:
    """`visitors` at once, each asking for `url` again as soon as it has the page, for
    `seconds` (once each if 0). Runs in the visitors' process."""
    return asyncio.run(_visit(url, visitors, seconds))


async def visiting(pool: Executor, url: str, visitors: int, seconds: float) -> Visits:
    return await asyncio.get_running_loop().run_in_executor(pool, visit, url, visitors, seconds)


async def main(ratings: int, visitors: int, seconds: float, citizens: int) -> None:
    print(f"machine: {machine()}")
    replies, clock = Replies(), Clock()
    spawn = multiprocessing.get_context("spawn")  # not a fork of a process running threads
    with tempfile.TemporaryDirectory() as folder, ProcessPoolExecutor(1, spawn) as pool:
        async with year_of_ratings(Path(folder), replies.delivered, clock, ratings) as (
            runtime,
            settings,
        ):
            web = WebSettings.from_settings(settings)
            uncached = replace(web, results=replace(web.results, cache_seconds=0))
            async with (
                serve(create_app(runtime, web=web, clock=clock)) as cached_origin,
                serve(create_app(runtime, web=uncached, clock=clock)) as uncached_origin,
            ):
                await visiting(pool, f"{cached_origin}/static/style.css", 1, 0)  # starts it
                print(f"{visitors} visitors, {citizens} citizens; load average {load()}")
                quiet = asyncio.create_task(asyncio.sleep(seconds))
                print(f"no visitors:   {await asking(runtime, replies, citizens, quiet)}")
                phases = (("cold", cached_origin, 0), ("cached", cached_origin, seconds))
                for name, origin, length in (*phases, ("uncached", uncached_origin, seconds)):
                    page = asyncio.create_task(visiting(pool, origin + YEAR, visitors, length))
                    turns = await asking(runtime, replies, citizens, page)
                    print(f"{name + ':':<14} {(await page).line()}\n{'':<15}{turns}")
                print(f"load average at the end {load()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ratings", type=int, default=200_000)
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--citizens", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.ratings, arguments.visitors, arguments.seconds, arguments.citizens))
