"""Fixtures the end-to-end Telegram tests share: a fake Bot API, and our bot polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from tests.e2e.telegram_bot import RunningBot, bot_on
from tests.fakes import FakeTelegramServer


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


@pytest.fixture
async def running(tg: FakeTelegramServer, settings: Settings) -> AsyncIterator[RunningBot]:
    async with bot_on(tg, settings) as bot:
        yield bot
