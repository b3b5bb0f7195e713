"""A local fake of the Zalo Bot API for end-to-end tests.

Our Zalo adapter talks to it over real HTTP, so the tests exercise its encoding, the ``ok``/status
checks and the single-update long poll exactly as in production, without the network. The fake
follows what is known about Zalo (see /work/shared/reference/bot-apis.md section 1): one update per
getUpdates and no offset, ``ok:false``/408 "Request timeout" when idle (HTTP status configurable),
2000-character texts, photos sent *by URL*, string ids and millisecond dates, and a webhook that
gets the wrapped ``{"ok": true, "result": update}`` body with ``X-Bot-Api-Secret-Token``.

Usage::

    async with FakeZaloServer() as zalo:
        client = MyZaloClient(zalo.token, base_url=zalo.base_url)
        zalo.send_text("6f1c", "Xin chào")
        ...
        await zalo.wait_for_messages("6f1c", 1)

Everything runs in the test's event loop: the helpers (``send_text``, ``send_image`` ...) are plain
methods and the server handlers share the same state without locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import secrets
import struct
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.recording import RecordingServer
from tests.fakes.serving import serve

__all__ = [
    "TINY_PNG",
    "FakeZaloServer",
    "ZaloCall",
    "ZaloSent",
]

JSONDict = dict[str, Any]

MAX_TEXT_LENGTH = 2000
MAX_CAPTION_LENGTH = 2000
SECRET_MIN_LENGTH = 8
SECRET_MAX_LENGTH = 256
DEFAULT_POLL_TIMEOUT = 30.0
FILES = "files"
"""The latency key of hosted-file downloads (a citizen's photo_url)."""

EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_UNSUPPORTED = "message.unsupported.received"

ERR_BAD_REQUEST = "Bad Request"
ERR_UNAUTHORIZED = "Unauthorized"
ERR_NOT_FOUND = "Not Found"
ERR_TIMEOUT = "Request timeout"
ERR_TEXT_LENGTH = "text must be between 1 and 2000 characters"
ERR_CAPTION_LENGTH = "caption must be at most 2000 characters"
ERR_CHAT_NOT_FOUND = "chat not found"
ERR_PHOTO_UNREACHABLE = "photo url is not reachable"

# Descriptions used by fail_next() when none is given (Zalo's list, in our words).
_DEFAULT_DESCRIPTIONS = {
    400: ERR_BAD_REQUEST,
    401: ERR_UNAUTHORIZED,
    403: "Internal server error",  # sic: Zalo lists 403 this way
    404: ERR_NOT_FOUND,
    405: "Method Not Allowed",
    408: ERR_TIMEOUT,
    426: "Upgrade Required",
    429: "Quota exceeded",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

_CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
_PARSE_MODES = frozenset({"markdown", "html"})


def _now_ms() -> int:
    """Zalo dates (message date, updated_at) are epoch milliseconds."""
    return int(time.time() * 1000)


def _new_message_id() -> str:
    """Zalo message ids are opaque strings of about 20 hex characters."""
    return secrets.token_hex(10)


def _png(width: int = 2, height: int = 2) -> bytes:
    """A small valid PNG, so files served as citizen photos carry real image bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes((0x1E, 0x88, 0xE5)) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", ihdr),
            chunk(b"IDAT", zlib.compress(rows)),
            chunk(b"IEND", b""),
        )
    )


TINY_PNG = _png()


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


class ZaloCall(NamedTuple):
    """One API request as received; ``at`` is ``time.monotonic()`` so tests can check pacing."""

    at: float
    method: str
    params: JSONDict


@dataclass
class ZaloSent:
    """A message the bot sent successfully (failed calls leave no record)."""

    chat_id: str
    kind: Literal["text", "photo"]
    message_id: str
    date: int  # epoch ms, as returned to the bot
    at: float  # time.monotonic() when it was accepted
    text: str | None = None
    parse_mode: str | None = None
    photo_url: str | None = None
    caption: str | None = None
    photo_bytes: bytes | None = None  # only for http://127.0.0.1 URLs, which the fake fetches
    photo_status: int | None = None
    params: JSONDict = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        if self.kind == "text":
            return repr(self.text)
        return f"[photo {self.photo_url}] {self.caption or ''}".rstrip()


@dataclass
class _Fault:
    method: str
    error_code: int
    description: str
    http_status: int
    remaining: int
    chat_id: str | None
    passing: int = 0
    """Calls let through before the fault starts."""


@dataclass
class _HostedFile:
    content: bytes
    content_type: str
    expired: bool = False


class ZaloError(Exception):
    """An ``ok:false`` answer: Zalo's error code and description, sent with ``http_status``."""

    def __init__(self, error_code: int, description: str, http_status: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.http_status = error_code if http_status is None else http_status

    def response(self) -> JSONResponse:
        body = {"ok": False, "error_code": self.error_code, "description": self.description}
        return JSONResponse(body, status_code=self.http_status)


def _bad_request(description: str = ERR_BAD_REQUEST) -> ZaloError:
    return ZaloError(400, description)


# --------------------------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------------------------


async def _read_params(request: Request) -> JSONDict:
    """Merge query-string, JSON and form-urlencoded parameters (Zalo accepts all of them).

    Form and query values stay strings; converting ("30" -> 30) is up to each method, as on a
    server that does not know which encoding the client picked."""
    params: JSONDict = dict(request.query_params.multi_items())
    body = await request.body()
    if not body.strip():
        return params
    mime = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if mime == "application/json":
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        params.update(data)
    elif mime == "application/x-www-form-urlencoded":
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    else:
        raise ValueError(f"unsupported content type {mime or '(none)'!r}")
    return params


def _poll_timeout(value: Any) -> float:
    """getUpdates' timeout: a number, a numeric string, or absent (30 s)."""
    if value is None or value == "":
        return DEFAULT_POLL_TIMEOUT
    if isinstance(value, bool):
        raise _bad_request()
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise _bad_request() from None
    return max(seconds, 0.0)


def _chat_key(value: Any) -> str:
    """Chat ids are strings; a JSON number is tolerated and compared as its decimal string."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

Handler = Callable[[JSONDict, Request], Awaitable[JSONDict | None]]


class _UseRegistered:
    """Sentinel type: deliver() sends the secret given to setWebhook."""


_REGISTERED = _UseRegistered()


class FakeZaloServer(RecordingServer):
    """In-process fake Zalo Bot API on 127.0.0.1 with helpers to act as citizens and inspect
    what the bot sent."""

    def __init__(
        self,
        token: str = "1234567890:ZALO-TEST-TOKEN",
        *,
        bot_id: str | None = None,
        long_poll_cap: float = 2.0,
        timeout_http_status: int = 200,
        webhook_info_when_unset: Literal["not_found", "empty"] = "not_found",
    ) -> None:
        self.token = token
        self.bot_id = bot_id if bot_id is not None else token.split(":", 1)[0]
        self.long_poll_cap = long_poll_cap
        # Knobs, changeable at any time: the sources disagree on these (bot-apis.md 1.5, 1.3).
        self.timeout_http_status = timeout_http_status
        self.webhook_info_when_unset: Literal["not_found", "empty"] = webhook_info_when_unset

        # What the bot did.
        self.calls: list[ZaloCall] = []
        self.chat_actions: list[tuple[str, str]] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_updated_at: int | None = None
        self.webhook_deliveries: list[tuple[str, JSONDict | None, int]] = []
        self.file_requests: list[tuple[float, str]] = []
        self.photo_fetches: list[tuple[str, int | None]] = []  # (url, status or None if failed)

        # Citizens' side.
        self.updates: list[JSONDict] = []  # everything injected, in order
        self.delivered_updates: list[JSONDict] = []  # handed out by getUpdates
        self.known_chats: set[str] = set()
        self._queue: list[JSONDict] = []

        self._sent: dict[str, list[ZaloSent]] = {}
        self._files: dict[str, _HostedFile] = {}
        self._faults: list[_Fault] = []
        self._latency: dict[str, float] = {}

        # Wake-ups for long polls and waiters; replaced after every notification.
        self._updates_changed = asyncio.Event()
        self._state_changed = asyncio.Event()
        self._closing = False

        self._serving: contextlib.AsyncExitStack | None = None
        self._client: httpx.AsyncClient | None = None
        self._origin_url: str | None = None

        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
        }
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api_endpoint, methods=["GET", "POST"]),
                Route("/files/{name}", self._file_endpoint, methods=["GET"]),
            ],
            exception_handlers={HTTPException: self._http_exception},
        )

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeZaloServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Serve on 127.0.0.1 with an OS-chosen port; returns once the socket is listening."""
        if self._serving is not None:
            raise RuntimeError("FakeZaloServer already started")
        self._closing = False
        self._serving = contextlib.AsyncExitStack()
        # trust_env=False: a proxy from the environment must not intercept 127.0.0.1 traffic.
        self._client = httpx.AsyncClient(timeout=5.0, trust_env=False)
        self._serving.push_async_callback(self._client.aclose)
        self._origin_url = await self._serving.enter_async_context(
            serve(self.app, "fake-zalo-api")
        )

    async def stop(self) -> None:
        """Release pending long polls, close our own client, then let uvicorn exit."""
        if self._serving is None:
            return
        self._closing = True
        self._notify_updates()
        serving, self._serving = self._serving, None
        await serving.aclose()
        self._client = None

    @property
    def base_url(self) -> str:
        """The API origin; clients build ``{base_url}/bot{token}/{method}``."""
        if self._origin_url is None:
            raise RuntimeError("FakeZaloServer is not started")
        return self._origin_url

    @property
    def port(self) -> int | None:
        return None if self._origin_url is None else urlsplit(self._origin_url).port

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("FakeZaloServer is not started")
        return self._client

    # ---------------------------------------------------------------- HTTP layer

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        """Routing errors get Zalo's JSON error shape too, so clients parse them the same way."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return ZaloError(status, _DEFAULT_DESCRIPTIONS.get(status, "Error")).response()

    async def _api_endpoint(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return ZaloError(401, ERR_UNAUTHORIZED).response()
        method = request.path_params["method"]
        try:
            params = await _read_params(request)
        except (ValueError, UnicodeDecodeError):
            return _bad_request().response()
        self.calls.append(ZaloCall(time.monotonic(), method, params))
        self._notify_state()
        handler = self._handlers.get(method)  # method names are case-sensitive on Zalo
        if handler is None:
            return ZaloError(404, ERR_NOT_FOUND).response()
        delay = self._latency.get(method, self._latency.get("*", 0.0))
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            self._raise_injected_fault(method, params)
            result = await handler(params, request)
        except ZaloError as err:
            return err.response()
        if result is None:  # sendChatAction: Zalo answers without a "result" key
            return JSONResponse({"ok": True})
        return JSONResponse({"ok": True, "result": result})

    async def _file_endpoint(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.file_requests.append((time.monotonic(), name))
        delay = self._latency.get(FILES, 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
        hosted = self._files.get(name)
        if hosted is None or hosted.expired:
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        return Response(hosted.content, media_type=hosted.content_type)

    # ---------------------------------------------------------------- notifications

    def _notify_updates(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()
        self._notify_state()

    def _notify_state(self) -> None:
        self._state_changed.set()
        self._state_changed = asyncio.Event()

    # ---------------------------------------------------------------- knobs

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        http_status: int = 200,
        times: int = 1,
        *,
        chat_id: str | None = None,
        after: int = 0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"`` = any; optionally only for one
        chat), once ``after`` more have gone through, answer ``ok:false`` before anything is
        recorded. Zalo sends no retry_after."""
        if description is None:
            description = _DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
        self._faults.append(
            _Fault(method, error_code, description, http_status, times, chat_id, passing=after)
        )

    def clear_faults(self) -> None:
        """End every injected fault (an outage is over)."""
        self._faults.clear()

    def _raise_injected_fault(self, method: str, params: JSONDict) -> None:
        for fault in self._faults:
            if fault.method not in ("*", method):
                continue
            if fault.chat_id is not None and _chat_key(params.get("chat_id")) != fault.chat_id:
                continue
            if fault.passing > 0:
                fault.passing -= 1
                return
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            raise ZaloError(fault.error_code, fault.description, fault.http_status)

    def set_latency(self, seconds: float, method: str = "*") -> None:
        """Delay answers (per method or ``"*"``; hosted-file downloads with ``FILES``) to test
        client timeouts and concurrency."""
        self._latency[method] = seconds

    def add_chat(self, chat_id: str) -> None:
        """Let the bot send to a chat that never wrote (Zalo only knows ids of users who did)."""
        self.known_chats.add(chat_id)

    # ---------------------------------------------------------------- hosted files

    def serve_file(self, content: bytes = TINY_PNG, content_type: str = "image/png") -> str:
        """Host ``content`` and return its URL, e.g. to play a citizen's ``photo_url``."""
        name = secrets.token_hex(8)
        self._files[name] = _HostedFile(content, content_type)
        return f"{self.base_url}/files/{name}"

    def expire_file(self, url: str) -> None:
        """Make a hosted file answer 404 from now on: Zalo media URLs may expire."""
        self._files[url.rsplit("/", 1)[-1]].expired = True

    # ---------------------------------------------------------------- injecting updates

    def inject(self, update: JSONDict) -> JSONDict:
        """Queue a raw update as given and return a copy. Injecting the same update twice
        delivers it twice, to test deduplication by message_id."""
        queued = json.loads(json.dumps(update))
        message = queued.get("message") if isinstance(queued, dict) else None
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), str):
            self.known_chats.add(chat["id"])
        self.updates.append(copy.deepcopy(queued))
        self._queue.append(copy.deepcopy(queued))
        self._notify_updates()
        return queued

    def _message(self, chat_id: str, display_name: str, fields: JSONDict) -> JSONDict:
        chat_id = str(chat_id)
        return {
            "message_id": _new_message_id(),
            "date": _now_ms(),
            "from": {"id": chat_id, "display_name": display_name, "is_bot": False},
            "chat": {"id": chat_id, "chat_type": "PRIVATE"},
            **fields,
        }

    def send_event(
        self,
        chat_id: str,
        event_name: str,
        extra_message_fields: JSONDict | None = None,
        *,
        display_name: str = "Người dân",
    ) -> JSONDict:
        """A private-chat update with any event name (unknown ones must not crash the bot)."""
        message = self._message(chat_id, display_name, dict(extra_message_fields or {}))
        return self.inject({"event_name": event_name, "message": message})

    def send_text(self, chat_id: str, text: str, *, display_name: str = "Người dân") -> JSONDict:
        """A citizen types ``text``."""
        return self.send_event(chat_id, EVENT_TEXT, {"text": text}, display_name=display_name)

    def send_image(
        self,
        chat_id: str,
        photo_url: str,
        caption: str | None = None,
        *,
        display_name: str = "Người dân",
    ) -> JSONDict:
        """A citizen sends a photo. Real payloads carry ``photo_url``; the docs say ``photo``,
        so both are set."""
        fields: JSONDict = {
            "photo_url": photo_url,
            "photo": photo_url,
            "message_type": "CHAT_PHOTO",
        }
        if caption is not None:
            fields["caption"] = caption
        return self.send_event(chat_id, EVENT_IMAGE, fields, display_name=display_name)

    def send_sticker(self, chat_id: str, *, display_name: str = "Người dân") -> JSONDict:
        """A citizen sends a sticker: content the bot must politely refuse. The schema is
        unpublished; this follows the hand-written fixtures (sticker id plus url)."""
        sticker_id = secrets.token_hex(4)
        fields = {
            "sticker": sticker_id,
            "url": f"https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid={sticker_id}",
            "message_type": "CHAT_STICKER",
        }
        return self.send_event(chat_id, EVENT_STICKER, fields, display_name=display_name)

    def send_unsupported(self, chat_id: str, *, display_name: str = "Người dân") -> JSONDict:
        """Zalo hides the content from some senders (children, some rich messages): no fields."""
        return self.send_event(chat_id, EVENT_UNSUPPORTED, display_name=display_name)

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates getUpdates has not handed out yet, oldest first."""
        return copy.deepcopy(self._queue)

    # ---------------------------------------------------------------- webhook delivery

    async def deliver(
        self,
        url: str,
        update: JSONDict,
        *,
        secret: str | _UseRegistered | None = _REGISTERED,
        wrapped: bool = True,
    ) -> int:
        """POST one update to the bot's webhook as Zalo does and return the HTTP status.

        ``secret`` defaults to the one given to setWebhook; ``None`` sends no header. The body
        is the documented wrapped form unless ``wrapped=False`` (openclaw saw flat bodies)."""
        token = self.webhook_secret if isinstance(secret, _UseRegistered) else secret
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["X-Bot-Api-Secret-Token"] = token
        body = {"ok": True, "result": update} if wrapped else update
        response = await self._http().post(url, content=json.dumps(body), headers=headers)
        self.webhook_deliveries.append((url, body, response.status_code))
        self._notify_state()
        return response.status_code

    async def probe(self, url: str, *, secret: str | None = None) -> int:
        """POST an empty body with no content type, as Zalo's health probe was seen doing."""
        headers = {} if secret is None else {"X-Bot-Api-Secret-Token": secret}
        response = await self._http().post(url, content=b"", headers=headers)
        self.webhook_deliveries.append((url, None, response.status_code))
        self._notify_state()
        return response.status_code

    # ---------------------------------------------------------------- inspection

    def messages(self, chat_id: str) -> list[ZaloSent]:
        """What the bot sent to ``chat_id``, oldest first."""
        return list(self._sent.get(chat_id, []))

    def texts(self, chat_id: str) -> list[str]:
        """The texts of the bot's text messages to ``chat_id`` (photos left out)."""
        return [m.text for m in self._sent.get(chat_id, []) if m.text is not None]

    def all_messages(self) -> list[ZaloSent]:
        return [m for sent in self._sent.values() for m in sent]

    def calls_to(self, method: str) -> list[ZaloCall]:
        return [c for c in self.calls if c.method == method]

    # ---------------------------------------------------------------- validation helpers

    def _chat_id(self, params: JSONDict) -> str:
        chat_id = _chat_key(params.get("chat_id"))
        if not chat_id:
            raise _bad_request()
        if chat_id not in self.known_chats:
            raise _bad_request(ERR_CHAT_NOT_FOUND)
        return chat_id

    def _store(self, sent: ZaloSent) -> JSONDict:
        self._sent.setdefault(sent.chat_id, []).append(sent)
        self._notify_state()
        return {"message_id": sent.message_id, "date": sent.date}

    @staticmethod
    def _parse_mode(params: JSONDict) -> str | None:
        mode = params.get("parse_mode")
        if mode is None or mode == "":
            return None
        if not isinstance(mode, str) or mode.lower() not in _PARSE_MODES:
            raise _bad_request()
        return mode

    async def _fetch_photo(self, url: str) -> tuple[bytes, int]:
        """Zalo downloads the photo itself; a 127.0.0.1 URL means the bot's own file server."""
        try:
            response = await self._http().get(url)
        except httpx.HTTPError:
            self.photo_fetches.append((url, None))
            raise _bad_request(ERR_PHOTO_UNREACHABLE) from None
        self.photo_fetches.append((url, response.status_code))
        if response.status_code != 200:
            raise _bad_request(ERR_PHOTO_UNREACHABLE)
        return response.content, response.status_code

    # ---------------------------------------------------------------- Bot API methods

    async def _get_me(self, params: JSONDict, request: Request) -> JSONDict:
        return {
            "id": self.bot_id,
            "account_name": "bot.feedback",
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    def _next_update(self) -> JSONDict | None:
        if self.webhook_url is not None or not self._queue:
            return None
        return self._queue[0]

    async def _get_updates(self, params: JSONDict, request: Request) -> JSONDict:
        """Hand out one update, oldest first, and forget it (Zalo has no offset/ack)."""
        timeout = min(_poll_timeout(params.get("timeout")), self.long_poll_cap)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._closing:
            if self._next_update() is not None:
                # A client that gave up (cancelled poll) must not swallow the update.
                if await request.is_disconnected():
                    break
                update = self._queue.pop(0)
                self.delivered_updates.append(copy.deepcopy(update))
                self._notify_state()
                return update
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            changed = self._updates_changed
            try:
                async with asyncio.timeout(remaining):
                    await changed.wait()
            except TimeoutError:
                pass
        raise ZaloError(408, ERR_TIMEOUT, self.timeout_http_status)

    async def _set_webhook(self, params: JSONDict, request: Request) -> JSONDict:
        url, secret = params.get("url"), params.get("secret_token")
        if not isinstance(url, str) or not url or not isinstance(secret, str):
            raise _bad_request()
        if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
            raise _bad_request()
        # Unlike Zalo, plain http and 127.0.0.1 are accepted so a local test webhook works.
        self.webhook_url, self.webhook_secret = url, secret
        self.webhook_updated_at = _now_ms()
        self._notify_updates()
        return {"url": url, "updated_at": self.webhook_updated_at}

    async def _delete_webhook(self, params: JSONDict, request: Request) -> JSONDict:
        self.webhook_url = self.webhook_secret = None
        self.webhook_updated_at = _now_ms()
        self._notify_updates()
        return {"url": "", "updated_at": self.webhook_updated_at}

    async def _get_webhook_info(self, params: JSONDict, request: Request) -> JSONDict:
        if self.webhook_url is None:
            if self.webhook_info_when_unset == "not_found":
                raise ZaloError(404, ERR_NOT_FOUND)
            return {"url": "", "updated_at": self.webhook_updated_at or _now_ms()}
        return {"url": self.webhook_url, "updated_at": self.webhook_updated_at}

    async def _send_message(self, params: JSONDict, request: Request) -> JSONDict:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT_LENGTH:
            raise _bad_request(ERR_TEXT_LENGTH)
        return self._store(
            ZaloSent(
                chat_id=chat_id,
                kind="text",
                message_id=_new_message_id(),
                date=_now_ms(),
                at=time.monotonic(),
                text=text,
                parse_mode=self._parse_mode(params),
                params=params,
            )
        )

    async def _send_photo(self, params: JSONDict, request: Request) -> JSONDict:
        chat_id = self._chat_id(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            raise _bad_request()
        caption = params.get("caption")
        if caption is not None and (
            not isinstance(caption, str) or len(caption) > MAX_CAPTION_LENGTH
        ):
            raise _bad_request(ERR_CAPTION_LENGTH)
        content: bytes | None = None
        status: int | None = None
        if photo.startswith("http://127.0.0.1"):
            content, status = await self._fetch_photo(photo)
        return self._store(
            ZaloSent(
                chat_id=chat_id,
                kind="photo",
                message_id=_new_message_id(),
                date=_now_ms(),
                at=time.monotonic(),
                photo_url=photo,
                caption=caption,
                photo_bytes=content,
                photo_status=status,
                params=params,
            )
        )

    async def _send_chat_action(self, params: JSONDict, request: Request) -> None:
        chat_id = self._chat_id(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request()
        self.chat_actions.append((chat_id, str(action)))
        self._notify_state()
        return None
