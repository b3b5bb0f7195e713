"""Runs the periodic rounds (reminders, escalations, auto-closing, the retention purge).

Each round is one transaction through the engine; alerts are recorded before they are sent, so a
restart never repeats one. On PostgreSQL, several processes take turns through an advisory lock;
with SQLite there is one bot process.
"""

from __future__ import annotations

import asyncio
import logging

from bot.engine import TurnEngine
from handlers.escalation import run_due

log = logging.getLogger(__name__)


async def run_scheduler(engine: TurnEngine, *, interval_seconds: float) -> None:
    """Run a round now and then every `interval_seconds`, until cancelled."""
    while True:
        try:
            queued = await engine.run_job(run_due)
            if queued:
                log.info("scheduler queued %d messages", queued)
        except Exception:
            log.exception("scheduler round failed; will try again")
        await asyncio.sleep(interval_seconds)
