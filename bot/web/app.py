"""The Starlette app: the webhooks and served files, the public results page, the stylesheet."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.runtime import Runtime
from bot.web.pages import STATIC
from bot.web.results import ResultsSettings, results_routes
from bot.web.webhooks import webhook_routes
from handlers.clock import Clock, system_clock


def _pages(
    reads: async_sessionmaker[AsyncSession], results: ResultsSettings, clock: Clock
) -> list[BaseRoute]:
    return [
        *results_routes(reads, results, clock),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def create_app(
    runtime: Runtime,
    *,
    results: ResultsSettings,
    telegram: TelegramChannel | None = None,
    telegram_secret: str = "",
    zalo: ZaloChannel | None = None,
    zalo_secret: str = "",
    clock: Clock = system_clock,
) -> Starlette:
    """`feedbackbot serve`'s app; each messenger's route answers only when it is configured."""
    webhooks = webhook_routes(
        runtime,
        telegram=telegram,
        telegram_secret=telegram_secret,
        zalo=zalo,
        zalo_secret=zalo_secret,
        clock=clock,
    )
    return Starlette(routes=[*webhooks, *_pages(runtime.reads, results, clock)])


def pages_app(
    reads: async_sessionmaker[AsyncSession], results: ResultsSettings, clock: Clock = system_clock
) -> Starlette:
    """`feedbackbot web`'s app: the pages alone, on read connections of the database."""
    return Starlette(routes=_pages(reads, results, clock))
