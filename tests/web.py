"""What the web tests share: a runtime with a year of ratings and reports, and the figures the
summary functions compute for a period, to hold the pages against."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from starlette.applications import Starlette

from bot import demo
from bot.config import Settings
from bot.runtime import Runtime
from bot.web import DashboardSettings, ResultsSettings, WebSettings, pages_app
from handlers.admin.summary import Summary, build_summary
from handlers.clock import Clock, local_day
from handlers.periods import Period, latest_complete
from storage.models import Report

RESULTS = ResultsSettings(min_sample=30, min_cell=5, cutoff=15, cache_seconds=60)


def site_app(
    rt: Runtime, settings: Settings, clock: Clock, results: ResultsSettings = RESULTS
) -> Starlette:
    """The web pages over the runtime's database, as `feedbackbot web` serves them."""
    web = WebSettings(settings.database_url, results, DashboardSettings.from_settings(settings))
    return pages_app(rt.sessions, rt.reads, web, clock)


async def seed(rt: Runtime, now: datetime) -> None:
    await demo.seed(rt.sessions, ratings=3000, reports=120, seed_value=7, now=now)


def default_period(now: datetime) -> Period:
    return latest_complete(local_day(now), RESULTS.cutoff)


async def summary_of(rt: Runtime, period: Period, now: datetime, locale: str) -> Summary:
    async with rt.reads() as session:
        return await build_summary(
            session, period, None, now=now, min_sample=RESULTS.min_sample, locale=locale
        )


async def reporter_traces(rt: Runtime) -> list[str]:
    """What a report holds that could point at its reporter: receipts, handles, descriptions."""
    async with rt.reads() as session:
        reports = (await session.scalars(select(Report))).all()
    return sorted(
        {r.receipt for r in reports}
        | {r.handle for r in reports}
        | {r.description for r in reports}
    )


def words(html: str) -> str:
    """The text of a page as a reader sees it, tags removed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
