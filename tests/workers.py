"""`feedbackbot serve` worker processes on one database, webhooks from the fake Bot API.

Shared by the multi-process test (tests/e2e/test_workers.py) and bench/two_workers.py. Each
worker runs in its own process group and is stopped (SIGTERM, then SIGKILL) however the caller
leaves; `kill` is the crash (SIGKILL at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import split_text
from bot.channels.telegram import CHANNEL, TEXT_LIMIT
from handlers.messages import decode_reply
from storage.identity import keys_of
from storage.models import OutboxMessage
from tests.fakes import FakeTelegramServer

SECRET = "workers-secret-3b8e1f6a90c2"
PUBLIC = "https://phananh.example.vn"
STARTUP_SECONDS = 60.0
STOP_SECONDS = 10.0
LIFTED = "1000000"
"""Pacing so high it never waits: the fake server does not throttle."""


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    def freeze(self) -> None:
        """Stop the worker where it stands (SIGSTOP), so what it held can be looked at before
        `kill`: the crash happens here."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def kill(self) -> None:
        """The crash: SIGKILL, no clean-up of any kind."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker_environment(
    tg: FakeTelegramServer, database_url: str, port: int, **extra: str
) -> dict[str, str]:
    """What a worker is started with: the same database and bot for all, its own port."""
    return {
        "ENV": "development",
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "PUBLIC_BASE_URL": PUBLIC,
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "PER_CHAT_BURST": LIFTED,
        "PER_CHAT_PERIOD_SECONDS": "1",
        "OVERALL_MESSAGES_PER_SECOND": LIFTED,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def _command() -> list[str]:
    script = Path(sys.executable).with_name("feedbackbot")
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-c", "from bot.cli import main; main()", "serve"]


@contextlib.asynccontextmanager
async def serve_worker(
    tg: FakeTelegramServer, database_url: str, folder: Path, **extra: str
) -> AsyncIterator[Worker]:
    """A `feedbackbot serve` process, answering on its port when this yields."""
    port = free_port()
    log = folder / f"worker-{port}.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *_command(),
            env={**os.environ, **worker_environment(tg, database_url, port, **extra)},
            cwd=folder,  # no stray .env file is read
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(process, port, log)
    try:
        await _answering(worker)
        yield worker
    finally:
        await _stop(process)


async def _answering(worker: Worker) -> None:
    async with httpx.AsyncClient(trust_env=False) as http, asyncio.timeout(STARTUP_SECONDS):
        while True:
            if worker.process.returncode is not None:
                raise RuntimeError(f"the worker exited:\n{worker.tail()}")
            with contextlib.suppress(httpx.TransportError):
                answer = await http.get(f"http://127.0.0.1:{worker.port}/healthz")
                if answer.status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def _stop(process: asyncio.subprocess.Process) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_SECONDS)


async def deliver(
    http: httpx.AsyncClient, update: dict[str, Any], workers: Sequence[Worker]
) -> Worker:
    """Post an update as Telegram does: to the first worker that answers 200, trying the
    others when one is down or fails (Telegram retries an unacknowledged update). Returns the
    worker that took it."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for _ in range(200):
        for worker in workers:
            with contextlib.suppress(httpx.TransportError):
                answer = await http.post(worker.url, json=update, headers=headers)
                if answer.status_code == 200:
                    return worker
        await asyncio.sleep(0.05)
    raise AssertionError(f"no worker took update {update['update_id']}")


def says(step: int) -> str:
    """What a citizen types at each step: /start, consent (the first option, "1"), then the
    help and the menu in turn, so each reply differs from the one before (an exchange shows)."""
    return ("/start", "1")[step] if step < 2 else ("/help", "/start")[step % 2]


async def written(
    sessions: async_sessionmaker[AsyncSession], chats: Sequence[int]
) -> dict[int, list[tuple[int, str]]]:
    """Each chat's messages as the outbox holds them, in the order written: (row id, the text
    of each part Telegram receives)."""
    by_ref: dict[str, list[tuple[int, str]]] = defaultdict(list)
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.id, OutboxMessage.chat_ref, OutboxMessage.payload).order_by(
                OutboxMessage.id
            )
        )
        keys = keys_of(session)
        for row_id, ref, payload in rows.all():
            for part in split_text(decode_reply(payload).text, TEXT_LIMIT):
                by_ref[ref].append((row_id, part))
    return {chat: by_ref[keys.ref(CHANNEL, str(chat))] for chat in chats}


def sent_texts(tg: FakeTelegramServer, chat: int) -> list[str]:
    return [
        call.params["text"]
        for call in tg.calls_to("sendMessage")
        if str(call.params["chat_id"]) == str(chat)
    ]
