"""The production web server (Starlette, run by uvicorn): webhooks, health, served files.

An update is answered 200 only after its turn has committed; a redelivery (the platform
retrying after a lost answer) is then recognised by its id and changes nothing. A wrong or
missing secret is refused with 401 before anything is read or stored. Secrets are compared in
constant time.
"""

from __future__ import annotations

import hmac
import json
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel, unwrap
from bot.runtime import Runtime
from handlers.clock import Clock, system_clock
from handlers.messages import OutgoingFile
from storage import files
from storage.models import OutboxMessage
from storage.outbox import PENDING

log = logging.getLogger(__name__)
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"


def _secret_ok(request: Request, header: str, expected: str) -> bool:
    given = request.headers.get(header, "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _unauthorised() -> Response:
    return JSONResponse({"ok": False, "error": "unauthorised"}, status_code=401)


async def _json(request: Request) -> Any:
    body = await request.body()
    return json.loads(body) if body.strip() else None


def create_app(
    runtime: Runtime,
    *,
    telegram: TelegramChannel | None = None,
    telegram_secret: str = "",
    zalo: ZaloChannel | None = None,
    zalo_secret: str = "",
    clock: Clock = system_clock,
) -> Starlette:
    """The ASGI app; each messenger's route exists only when that messenger is configured."""

    async def telegram_webhook(request: Request) -> Response:
        if telegram is None or not _secret_ok(request, TELEGRAM_SECRET_HEADER, telegram_secret):
            return _unauthorised()
        try:
            update = Update.de_json(await _json(request), telegram.bot)
        except (ValueError, TypeError, KeyError) as error:
            log.warning("unreadable Telegram update: %s", error)
            return Response(status_code=400)
        stored = await telegram.process(update, runtime.engine)
        return Response(status_code=200 if stored else 503)

    async def zalo_webhook(request: Request) -> Response:
        if zalo is None or not _secret_ok(request, ZALO_SECRET_HEADER, zalo_secret):
            return _unauthorised()
        try:
            body = await _json(request)
        except ValueError:
            return Response(status_code=400)
        if body is not None and not await zalo.handle(unwrap(body), runtime.engine):
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    async def health(_: Request) -> Response:
        try:
            async with runtime.reads() as session:
                await session.execute(text("SELECT 1"))
                backlog = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == PENDING)
                )
        except Exception as error:  # the database is what this endpoint checks
            log.warning("health check failed: %s", error)
            return JSONResponse({"database": "unreachable"}, status_code=503)
        return JSONResponse(
            {
                "database": "ok",
                "outbox_pending": backlog or 0,
                "channels_down": runtime.dispatcher.channels_down(),
            }
        )

    async def served_file(request: Request) -> Response:
        async with runtime.reads() as session:
            found = await files.fetch(request.path_params["token"], now=clock(), session=session)
        if found is None:
            return Response(status_code=404)
        return Response(
            found.content,
            media_type=found.mime_type,
            headers={"Cache-Control": "private, max-age=300"},
        )

    return Starlette(
        routes=[
            Route("/telegram", telegram_webhook, methods=["POST"]),
            Route("/zalo", zalo_webhook, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/files/{token}", served_file, methods=["GET"]),
        ]
    )


def file_publisher(
    runtime: Runtime, public_base_url: str | None, hours: int, clock: Clock = system_clock
) -> Any:
    """Stores files for Zalo to fetch; None URLs when there is no public address."""

    async def publish(file: OutgoingFile) -> str | None:
        if not public_base_url:
            return None
        async with runtime.sessions() as session, session.begin():
            token = await files.publish(
                file.name,
                file.mime_type,
                file.content,
                now=clock(),
                ttl=timedelta(hours=hours),
                session=session,
            )
        return f"{public_base_url.rstrip('/')}/files/{token}"

    return publish
