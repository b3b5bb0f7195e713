"""The Starlette app: the webhooks and served files, the public results page, the admins'
dashboard, the stylesheet."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.config import Settings
from bot.runtime import Runtime
from bot.web.dashboard import DashboardSettings, dashboard_routes
from bot.web.pages import STATIC
from bot.web.results import ResultsSettings, results_routes
from bot.web.webhooks import webhook_routes
from handlers.clock import Clock, system_clock


@dataclass(frozen=True, slots=True)
class WebSettings:
    database_url: str
    """Read by the pages' heavy figures on connections of their own (`reading`)."""
    results: ResultsSettings
    dashboard: DashboardSettings

    @classmethod
    def from_settings(cls, settings: Settings) -> WebSettings:
        return cls(
            settings.database_url,
            ResultsSettings.from_settings(settings),
            DashboardSettings.from_settings(settings),
        )


def _pages(
    sessions: async_sessionmaker[AsyncSession],
    reads: async_sessionmaker[AsyncSession],
    web: WebSettings,
    clock: Clock,
) -> list[BaseRoute]:
    return [
        *results_routes(web.database_url, web.results, clock),
        *dashboard_routes(sessions, reads, web.database_url, web.dashboard, clock),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def create_app(
    runtime: Runtime,
    *,
    web: WebSettings,
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
    pages = _pages(runtime.sessions, runtime.reads, web, clock)
    return Starlette(routes=[*webhooks, *pages])


def pages_app(
    sessions: async_sessionmaker[AsyncSession],
    reads: async_sessionmaker[AsyncSession],
    web: WebSettings,
    clock: Clock = system_clock,
) -> Starlette:
    """`feedbackbot web`'s app: the pages alone (the dashboard writes only its sign-ins)."""
    return Starlette(routes=_pages(sessions, reads, web, clock))
