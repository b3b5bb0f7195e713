"""Runs the periodic rounds (reminders, escalations, auto-closing, the retention purge).

The deadlines' round is one transaction through the engine; alerts are recorded before they are
sent, so a restart never repeats one. The purge follows in short transactions of its own (see
`handlers/retention.py`). On PostgreSQL, several processes take turns through an advisory lock;
with SQLite there is one bot process.
"""

from __future__ import annotations

import asyncio
import logging

from bot.engine import TurnEngine
from handlers.escalation import run_due
from handlers.retention import Sweeper

log = logging.getLogger(__name__)


async def run_round(engine: TurnEngine, sweeper: Sweeper) -> int:
    """One round: deadlines and auto-closing, then the purge. Returns the messages queued."""
    queued = await engine.run_job(run_due)
    purged = {kind: n for kind, n in (await sweeper.sweep(engine.run_job)).items() if n}
    if purged:
        log.info("retention purge: %s", purged)
    return queued


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
