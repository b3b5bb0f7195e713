"""Runs the periodic rounds (reminders, escalations, auto-closing, the retention purge).

A round is many short transactions through the engine, never one long one: the due cases are
selected in SQL, then handled one by one (`handlers/casework/escalation.py`), and the purge goes in
batches (`handlers/admin/retention.py`), so other chats' turns get the write lock in between.
Alerts are recorded with their messages, so a restart never repeats one. On PostgreSQL, each of
those transactions takes the scheduler's advisory lock, so processes take turns; with SQLite there
is one bot process.

Between two of its transactions a round pauses as long as the last one took, so it never has the
write lock more than half the time: on SQLite a turn waiting in the busy handler looks again
every 100 ms or so, and a round that took the lock back at once would starve it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.engine import TurnEngine
from handlers.admin.retention import Sweeper
from handlers.casework.escalation import Job, RunJob, run_due

log = logging.getLogger(__name__)


async def run_round(engine: TurnEngine, sweeper: Sweeper) -> int:
    """One round: deadlines and auto-closing, then the purge. Returns the messages queued."""
    run_job = paced(engine.run_job)
    queued = await run_due(run_job)
    purged = {kind: n for kind, n in (await sweeper.sweep(run_job)).items() if n}
    if purged:
        log.info("retention purge: %s", purged)
    return queued


def paced(run_job: RunJob) -> RunJob:
    """`run_job`, followed by a pause as long as the job took: others get the lock between."""

    async def run(job: Job) -> int:
        started = time.monotonic()
        queued = await run_job(job)
        await asyncio.sleep(time.monotonic() - started)
        return queued

    return run


async def run_scheduler(engine: TurnEngine, *, interval_seconds: float) -> None:
    """Run a round now and then every `interval_seconds`, until cancelled."""
    sweeper = Sweeper()
    while True:
        try:
            queued = await run_round(engine, sweeper)
            if queued:
                log.info("scheduler queued %d messages", queued)
        except Exception:
            log.exception("scheduler round failed; will try again")
        await asyncio.sleep(interval_seconds)
