"""`feedbackbot serve` as deployed: refuses to start half-configured; otherwise registers both
webhooks with their secrets on the configured API servers and answers on its own port."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli import app, serve_webhooks
from tests.conftest import make_settings
from tests.fakes import FakeTelegramServer, FakeZaloServer

PUBLIC = "https://phananh.example.vn"
TELEGRAM_SECRET, ZALO_SECRET = "tg-secret-4f9a1c7e2b", "zalo-secret-8d3e6b0a5c"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_names_every_setting_it_still_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'serve.sqlite3'}")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:real-looking-token")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "short")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 1
    assert "PUBLIC_BASE_URL" in result.output and "TELEGRAM_WEBHOOK_SECRET" in result.output


async def test_serve_registers_both_webhooks_and_answers_on_its_port(
    tmp_path: Path, database_url: str
) -> None:
    port = free_port()
    async with FakeTelegramServer() as tg, FakeZaloServer() as zalo:
        settings = make_settings(
            tmp_path,
            database_url=database_url,
            telegram_bot_token=tg.token,
            telegram_api_base_url=tg.base_url,
            telegram_webhook_secret=TELEGRAM_SECRET,
            zalo_bot_token=zalo.token,
            zalo_api_base_url=zalo.base_url,
            zalo_webhook_secret=ZALO_SECRET,
            public_base_url=PUBLIC,
            web_port=port,
        )
        assert settings.webhook_problems() == []
        serving = asyncio.create_task(serve_webhooks(settings))
        try:
            async with httpx.AsyncClient(trust_env=False) as http:
                for _ in range(200):
                    try:
                        health = await http.get(f"http://127.0.0.1:{port}/healthz")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
                else:
                    raise AssertionError("the web server never answered")
                assert health.status_code == 200
                refused = await http.post(
                    f"http://127.0.0.1:{port}/telegram",
                    json={"update_id": 1},
                    headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                )
                assert refused.status_code == 401
            [telegram_hook] = tg.calls_to("setWebhook")
            assert telegram_hook.params["url"] == f"{PUBLIC}/telegram"
            assert telegram_hook.params["secret_token"] == TELEGRAM_SECRET
            [zalo_hook] = zalo.calls_to("setWebhook")
            assert zalo_hook.params == {"url": f"{PUBLIC}/zalo", "secret_token": ZALO_SECRET}
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
