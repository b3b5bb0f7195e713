"""The web server: messenger webhooks, served files and the public results page."""

from bot.web.app import create_app, pages_app
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
    "ResultsSettings",
    "create_app",
    "file_publisher",
    "pages_app",
]
