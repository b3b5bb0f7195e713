"""The web server: messenger webhooks, served files, the public results page and the admins'
dashboard."""

from bot.web.app import WebSettings, create_app, pages_app
from bot.web.dashboard import DashboardSettings
from bot.web.results import ResultsSettings
from bot.web.webhooks import (
    BODY_LIMIT,
    TELEGRAM_SECRET_HEADER,
    ZALO_SECRET_HEADER,
    file_publisher,
)

__all__ = [
    "BODY_LIMIT",
    "TELEGRAM_SECRET_HEADER",
    "ZALO_SECRET_HEADER",
    "DashboardSettings",
    "ResultsSettings",
    "WebSettings",
    "create_app",
    "file_publisher",
    "pages_app",
]
