"""The webhooks, health and served files of the web server (Starlette, run by uvicorn).

An update is answered 200 only after its turn has committed; a redelivery (the platform
retrying after a lost answer) is then recognised by its id and changes nothing. A wrong or
missing secret is refused with 401 before anything is read or stored. Secrets are compared in
constant time. A body that is too large or not an update is answered 400 (413 for size)
with one log line, never a traceback.
"""

from __future__ import annotations

import hmac
import json
import logging
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.telegram import TelegramChannel, UnreadableUpdate, read_update
from bot.channels.zalo import ZaloChannel, unwrap
from bot.runtime import Runtime
from handlers.clock import Clock, system_clock
from handlers.messages import OutgoingFile
from storage import files, outbox

log = logging.getLogger(__name__)
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"


def _secret_ok(request: Request, header: str, expected: str) -> bool:
    given = request.headers.get(header, "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _unauthorised() -> Response:
    return JSONResponse({"ok": False, "error": "unauthorised"}, status_code=401)


BODY_LIMIT = 1024 * 1024
"""Updates are a few kilobytes (files are fetched separately); a larger body is refused unread."""


class BadBody(Exception):
    """A webhook body refused before any turn: its status and why, for the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


async def _read_body(request: Request) -> bytes:
    """The body, read up to BODY_LIMIT bytes and no further."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 12 or int(declared) > BODY_LIMIT):
        raise BadBody(413, f"declared {declared[:12]} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > BODY_LIMIT:
            raise BadBody(413, f"more than {BODY_LIMIT} bytes")
    return bytes(body)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise BadBody(400, f"not JSON ({type(error).__name__})") from error
    if not isinstance(parsed, dict):
        raise BadBody(400, f"JSON {type(parsed).__name__}, not an object")
    return parsed


def _refused(channel: str, error: BadBody) -> Response:
    log.warning("%s webhook body refused: %s", channel, error)
    return JSONResponse({"ok": False, "error": str(error)}, status_code=error.status)


def webhook_routes(
    runtime: Runtime,
    *,
    telegram: TelegramChannel | None,
    telegram_secret: str,
    zalo: ZaloChannel | None,
    zalo_secret: str,
    clock: Clock,
) -> list[Route]:
    """/telegram, /zalo (refused unless that messenger is configured), /healthz, /files."""

    async def telegram_webhook(request: Request) -> Response:
        if telegram is None or not _secret_ok(request, TELEGRAM_SECRET_HEADER, telegram_secret):
            return _unauthorised()
        try:
            update = read_update(_json_object(await _read_body(request)), telegram.bot)
        except BadBody as error:
            return _refused("Telegram", error)
        except UnreadableUpdate as error:
            return _refused("Telegram", BadBody(400, f"not an update ({error})"))
        stored = await telegram.process(update, runtime.engine)
        return Response(status_code=200 if stored else 503)

    async def zalo_webhook(request: Request) -> Response:
        if zalo is None or not _secret_ok(request, ZALO_SECRET_HEADER, zalo_secret):
            return _unauthorised()
        try:
            body = await _read_body(request)
            if not body.strip():  # Zalo's health probe
                return JSONResponse({"ok": True})
            update = unwrap(_json_object(body))
        except BadBody as error:
            return _refused("Zalo", error)
        if not isinstance(update, dict):
            return _refused("Zalo", BadBody(400, "result is not an object"))
        if not await zalo.handle(update, runtime.engine):
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    async def health(_: Request) -> Response:
        try:
            async with runtime.reads() as session:
                backlog = await outbox.pending_count(session=session)
        except Exception as error:  # the database is what this endpoint checks
            log.warning("health check failed: %s", error)
            return JSONResponse({"database": "unreachable"}, status_code=503)
        return JSONResponse(
            {
                "database": "ok",
                "outbox_pending": backlog,
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

    return [
        Route("/telegram", telegram_webhook, methods=["POST"]),
        Route("/zalo", zalo_webhook, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/files/{token}", served_file, methods=["GET"]),
    ]


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
