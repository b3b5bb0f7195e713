"""A local fake of the Telegram Bot API for end-to-end tests.

The real python-telegram-bot client talks to it over real HTTP (its default HTTPXRequest), so the
tests exercise PTB's encoding, error mapping and polling exactly as in production, without the
network. The fake is deliberately strict where Telegram is strict (lengths, callback_data bytes,
HTML tags, "message is not modified", answered callback queries) so bugs show up in tests rather
than in production.

Usage::

    async with FakeTelegramServer() as tg:
        bot = telegram.Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url)
        tg.send_text(42, "/start")
        ...
        msgs = await tg.wait_for_messages(42, 1)

Everything runs in the test's event loop: the helpers (``send_text``, ``press`` ...) are plain
methods and the server handlers share the same state without locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import struct
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.recording import RecordingServer
from tests.fakes.serving import serve

__all__ = [
    "Call",
    "FakeTelegramServer",
    "MessageEdit",
    "SentMessage",
    "StoredFile",
    "UploadedFile",
    "parse_telegram_html",
]

JSONDict = dict[str, Any]
ChatId = int | str

# Limits from the Bot API docs (see /work/shared/reference/bot-apis.md section 3.5).
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100

# Real Telegram error descriptions, so tests can match on the same strings as production code.
ERR_TEXT_EMPTY = "Bad Request: message text is empty"
ERR_TEXT_TOO_LONG = "Bad Request: message is too long"
ERR_CAPTION_TOO_LONG = "Bad Request: message caption is too long"
ERR_BUTTON_DATA = "Bad Request: BUTTON_DATA_INVALID"
ERR_PARSE_ENTITIES = "Bad Request: can't parse entities"
ERR_QUERY_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
ERR_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
ERR_BLOCKED = "Forbidden: bot was blocked by the user"
ERR_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
ERR_OTHER_POLLER = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# fmt: off
# Parameters that are always strings in the Bot API. PTB sends strings unencoded in form bodies,
# so a text like "123" or "true" must not be json-decoded into a number or a bool.
_STRING_PARAMS = frozenset({
    "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "url",
    "secret_token", "ip_address", "file_id", "photo", "document", "action", "language_code",
    "business_connection_id", "emoji",
})

# Update types getUpdates leaves out unless they are asked for explicitly.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})

_SCOPE_TYPES = frozenset({
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
})

# Any of these makes an inline button more than a bare label, which Telegram rejects.
_BUTTON_ACTIONS = frozenset({
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
})
# fmt: on

_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
_BOT_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")


def _utf16_len(text: str) -> int:
    """Telegram measures text and entity offsets in UTF-16 code units, not code points."""
    return len(text.encode("utf-16-le")) // 2


def _now() -> int:
    """Telegram dates are whole unix seconds (date == 0 would make PTB see an inaccessible
    message)."""
    return int(time.time())


def _make_png(width: int = 1, height: int = 1) -> bytes:
    """Build a tiny valid PNG so photo uploads and downloads carry real image bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    raw = b"".join(b"\x00" + b"\xd0\x21\x3a" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


DEFAULT_PNG = _make_png()


def _image_size(content: bytes) -> tuple[int, int]:
    """Read PNG dimensions so PhotoSize width/height look plausible; other formats get 800x600."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    return 800, 600


# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------

_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^<>]*)>")
_ATTR_RE = re.compile(
    r"""([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]+);")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class HtmlParseError(ValueError):
    """Raised for HTML that Telegram would refuse with "can't parse entities"."""


def _decode_html_entity(match: re.Match[str]) -> str | None:
    name = match.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1:2] in ("x", "X") else int(name[1:])
        return chr(code) if 0 < code <= 0x10FFFF else None
    return _NAMED_ENTITIES.get(name)


def parse_telegram_html(source: str) -> tuple[str, list[JSONDict]]:
    """Turn Telegram-HTML into (visible text, entities), failing like Telegram does.

    Only the tags Telegram documents are accepted, tags must nest properly, and a bare "<" is an
    error; this is what catches forgotten ``html.escape`` of citizen-provided text. A bare "&" or
    an unknown named entity is kept literally (Telegram's handling of those is not documented,
    so the fake stays lenient there).
    """
    out: list[str] = []
    pos = 0  # UTF-16 offset in the visible text
    stack: list[tuple[str, dict[str, str], int]] = []
    entities: list[JSONDict] = []
    i = 0
    n = len(source)

    def byte_offset(index: int) -> int:
        return len(source[:index].encode("utf-8"))

    while i < n:
        ch = source[i]
        if ch == "<":
            m = _TAG_RE.match(source, i)
            if m is None:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(i)}")
            closing, name, rest = m.group(1) == "/", m.group(2).lower(), m.group(3)
            if closing:
                if rest.strip():
                    raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset(i)}")
                if not stack or stack[-1][0] != name:
                    raise HtmlParseError(
                        f'Unmatched end tag at byte offset {byte_offset(i)}, expected "</'
                        f'{stack[-1][0] if stack else ""}>", found "</{name}>"'
                    )
                open_name, attrs, start = stack.pop()
                _close_html_entity(open_name, attrs, start, pos, stack, entities)
            else:
                if name not in _SIMPLE_TAG_TYPES or rest.rstrip().endswith("/"):
                    raise HtmlParseError(
                        f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}'
                    )
                attrs = {
                    a.group(1).lower(): a.group(2) or a.group(3) or a.group(4) or ""
                    for a in _ATTR_RE.finditer(rest)
                }
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise HtmlParseError(
                        f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(i)}'
                    )
                if name == "tg-emoji" and "emoji-id" not in attrs:
                    raise HtmlParseError(
                        f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                        f"{byte_offset(i)}"
                    )
                stack.append((name, attrs, pos))
            i = m.end()
            continue
        if ch == "&":
            m = _HTML_ENTITY_RE.match(source, i)
            decoded = _decode_html_entity(m) if m else None
            if m is not None and decoded is not None:
                out.append(decoded)
                pos += _utf16_len(decoded)
                i = m.end()
                continue
        out.append(ch)
        pos += _utf16_len(ch)
        i += 1

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_html_entity(
    name: str,
    attrs: dict[str, str],
    start: int,
    end: int,
    stack: list[tuple[str, dict[str, str], int]],
    entities: list[JSONDict],
) -> None:
    """Emit the MessageEntity for a closed tag (``<pre><code class=...>`` becomes one pre)."""
    if name == "code" and stack and stack[-1][0] == "pre":
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][1]["_language"] = language.removeprefix("language-")
        return
    if end <= start:
        return
    entity: JSONDict = {"type": _SIMPLE_TAG_TYPES[name], "offset": start, "length": end - start}
    if name == "a":
        entity["url"] = attrs.get("href", "")
    elif name == "pre" and attrs.get("_language"):
        entity["language"] = attrs["_language"]
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    entities.append(entity)


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


class Call(NamedTuple):
    """One API request as received; ``at`` is ``time.monotonic()`` for pacing checks."""

    at: float
    method: str
    params: JSONDict


@dataclass
class UploadedFile:
    """A multipart file part, kept byte for byte."""

    filename: str
    content: bytes
    content_type: str | None = None


@dataclass
class StoredFile:
    """A file the fake knows by file_id (uploaded by the bot or sent by a user)."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    kind: str
    file_name: str | None = None
    mime_type: str | None = None

    def as_file(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


@dataclass
class MessageEdit:
    """One successful edit of a bot message, with the state before and after."""

    method: str
    at: float
    before_text: str | None
    before_reply_markup: JSONDict | None
    text: str | None
    reply_markup: JSONDict | None
    parse_mode: str | None


@dataclass
class SentMessage:
    """What the bot sent to a chat, updated in place by later edits.

    ``text``/``caption`` are exactly as the bot sent them (HTML tags included);
    ``plain_text``/``plain_caption`` are what the citizen sees.
    """

    chat_id: ChatId
    message_id: int
    kind: str  # "text" | "photo" | "document"
    date: int
    text: str | None = None
    parse_mode: str | None = None
    reply_markup: JSONDict | None = None
    plain_text: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    caption: str | None = None
    plain_caption: str | None = None
    caption_entities: list[JSONDict] = field(default_factory=list)
    content: bytes | None = None
    filename: str | None = None
    mime_type: str | None = None
    file_id: str | None = None
    media: Any = None  # the photo array or document object as returned to the bot
    edit_date: int | None = None
    edits: list[MessageEdit] = field(default_factory=list)
    params: JSONDict = field(default_factory=dict, repr=False)

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline keyboard flattened to (label, callback_data); url buttons give None."""
        return _flatten_buttons(self.reply_markup)

    def summary(self) -> str:
        body = self.plain_text if self.kind == "text" else f"[{self.kind}] {self.caption or ''}"
        labels = [label for label, _ in self.buttons]
        return f"#{self.message_id} {body!r}" + (f" buttons={labels}" if labels else "")


def _flatten_buttons(markup: JSONDict | None) -> list[tuple[str, str | None]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [
        (str(button.get("text", "")), button.get("callback_data"))
        for row in markup["inline_keyboard"]
        for button in row
    ]


@dataclass
class _QueuedUpdate:
    update: JSONDict
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next((k for k in self.update if k != "update_id"), "")


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: ChatId | None
    passing: int = 0
    """Calls let through before the fault starts."""


class ApiError(Exception):
    """A Bot API error answer: HTTP status plus Telegram's JSON error body."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def response(self) -> JSONResponse:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return JSONResponse(body, status_code=self.status)


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


# --------------------------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _decode_value(name: str, raw: str) -> Any:
    """Undo PTB's form encoding: non-string values arrive JSON-encoded inside form fields."""
    if name in _STRING_PARAMS:
        return raw
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        return raw
    if isinstance(value, dict | list | int | float | bool):
        return value
    return raw


def _split_multipart(
    body: bytes, boundary: bytes
) -> Iterable[tuple[str, str | None, str | None, bytes]]:
    """Yield (name, filename, content_type, data) per part; the stdlib has no multipart/form-data
    parser and python-multipart is not a dependency, so this handles what httpx produces."""
    delimiter = b"\r\n--" + boundary
    for part in (b"\r\n" + body).split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("malformed multipart part")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        params = {
            k.lower(): v.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")
            for k, v in re.findall(r';\s*([A-Za-z*]+)="((?:[^"\\]|\\.)*)"', disposition)
        }
        if "name" not in params:
            raise ValueError("multipart part without a name")
        yield params["name"], params.get("filename"), headers.get("content-type"), data


async def _read_params(request: Request) -> JSONDict:
    """Collect parameters from the query string and any of the three body encodings."""
    params: JSONDict = {k: _decode_value(k, v) for k, v in request.query_params.multi_items()}
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    body = await request.body()
    if not body:
        return params
    if mime == "application/json":
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        for key, value in data.items():
            params[key] = _decode_value(key, value) if isinstance(value, str) else value
    elif mime == "application/x-www-form-urlencoded":
        for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
            params[key] = _decode_value(key, value)
    elif mime == "multipart/form-data":
        m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type)
        if m is None:
            raise ValueError("multipart body without boundary")
        boundary = (m.group(1) or m.group(2)).encode("latin-1")
        for name, filename, part_type, data in _split_multipart(body, boundary):
            if filename is None:
                params[name] = _decode_value(name, data.decode("utf-8"))
            else:
                params[name] = UploadedFile(filename, data, part_type)
    return params


def _error_response(status: int, description: str) -> JSONResponse:
    return ApiError(status, description).response()


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

Handler = Callable[[JSONDict], Awaitable[Any]]


class FakeTelegramServer(RecordingServer):
    """In-process fake Bot API on 127.0.0.1 with helpers to act as citizens and inspect replies."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "feedback_test_bot",
        bot_first_name: str = "Feedback Test Bot",
        long_poll_cap: float = 2.0,
    ) -> None:
        if not _TOKEN_RE.match(token):
            raise ValueError(f"token must look like '<digits>:<secret>', got {token!r}")
        self.token = token
        self.bot_user: JSONDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.long_poll_cap = long_poll_cap

        # What the bot did.
        self.calls: list[Call] = []
        self.callback_answers: dict[str, JSONDict] = {}
        self.chat_actions: list[tuple[ChatId, str]] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_allowed_updates: list[str] | None = None
        self.webhook_deliveries: list[tuple[str, JSONDict, int]] = []

        self._sent: dict[ChatId, list[SentMessage]] = {}
        self._by_id: dict[tuple[ChatId, int], SentMessage] = {}
        self._next_mid: dict[ChatId, int] = {}
        self._chat_info: dict[ChatId, JSONDict] = {}
        self._commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._callback_queries: dict[str, JSONDict] = {}
        self._callback_seq = itertools.count(1)

        # Update queue for getUpdates.
        self._queue: list[_QueuedUpdate] = []
        self._next_update_id = 100_000_001
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0

        # Knobs.
        self._faults: list[_Fault] = []
        self._blocked: set[ChatId] = set()
        self._latency: dict[str, float] = {}

        # Wake-ups for long polls and waiters; replaced after every notification.
        self._updates_changed = asyncio.Event()
        self._state_changed = asyncio.Event()
        self._closing = False

        self._serving: contextlib.AsyncExitStack | None = None
        self._origin_url: str | None = None

        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._return_true,
            "close": self._return_true,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getFile": self._get_file,
        }
        # Telegram matches method names case-insensitively.
        self._method_names = {name.lower(): name for name in self._handlers}

        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api_endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self._file_endpoint, methods=["GET"]),
            ],
            exception_handlers={HTTPException: self._http_exception},
        )

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Serve on 127.0.0.1 with an OS-chosen port; returns once the socket is listening."""
        if self._serving is not None:
            raise RuntimeError("FakeTelegramServer already started")
        self._closing = False
        self._serving = contextlib.AsyncExitStack()
        self._origin_url = await self._serving.enter_async_context(
            serve(self.app, "fake-telegram-api")
        )

    async def stop(self) -> None:
        """Release pending long polls, then let uvicorn close its connections and exit."""
        if self._serving is None:
            return
        self._closing = True
        self._notify_updates()
        serving, self._serving = self._serving, None
        await serving.aclose()

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)``; PTB appends the token itself."""
        return f"{self._origin}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``Bot(base_file_url=...)``; PTB appends the token itself."""
        return f"{self._origin}/file/bot"

    @property
    def _origin(self) -> str:
        if self._origin_url is None:
            raise RuntimeError("FakeTelegramServer is not started")
        return self._origin_url

    # ---------------------------------------------------------------- HTTP layer

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        """Answer routing errors as Telegram does (JSON), so PTB maps them to exceptions."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return _error_response(status, _DEFAULT_DESCRIPTIONS.get(status, "Error"))

    def _check_token(self, token: str) -> JSONResponse | None:
        if not _TOKEN_RE.match(token):
            return _error_response(404, "Not Found")
        if token != self.token:
            return _error_response(401, "Unauthorized")
        return None

    async def _api_endpoint(self, request: Request) -> Response:
        if (denied := self._check_token(request.path_params["token"])) is not None:
            return denied
        requested = request.path_params["method"]
        try:
            params = await _read_params(request)
        except ValueError as exc:
            return _error_response(400, f"Bad Request: can't parse request: {exc}")
        method = self._method_names.get(requested.lower())
        self.calls.append(Call(time.monotonic(), method or requested, params))
        self._notify_state()
        if method is None:
            return _error_response(404, "Not Found")
        delay = self._latency.get(method, self._latency.get("*", 0.0))
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            self._raise_injected_fault(method, params)
            result = await self._handlers[method](params)
        except ApiError as err:
            return err.response()
        return JSONResponse({"ok": True, "result": result})

    async def _file_endpoint(self, request: Request) -> Response:
        if (denied := self._check_token(request.path_params["token"])) is not None:
            return denied
        stored = self._files_by_path.get(request.path_params["file_path"])
        if stored is None:
            return _error_response(404, "Not Found")
        return Response(stored.content, media_type=stored.mime_type or "application/octet-stream")

    # ---------------------------------------------------------------- notifications

    def _notify_updates(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()
        self._notify_state()

    def _notify_state(self) -> None:
        self._state_changed.set()
        self._state_changed = asyncio.Event()

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        *,
        chat_id: ChatId | None = None,
        after: int = 0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"`` = any; optionally only for one
        chat), once ``after`` more have gone through, fail with ``status`` before anything is
        recorded as sent."""
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after or 1}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        self._faults.append(
            _Fault(method, status, description, retry_after, times, chat_id, passing=after)
        )

    def clear_faults(self) -> None:
        """End every injected fault (an outage is over)."""
        self._faults.clear()

    def _raise_injected_fault(self, method: str, params: JSONDict) -> None:
        for fault in self._faults:
            if fault.method not in ("*", method):
                continue
            if fault.chat_id is not None and _norm_chat(params.get("chat_id")) != fault.chat_id:
                continue
            if fault.passing > 0:
                fault.passing -= 1
                return
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            raise ApiError(fault.status, fault.description, fault.retry_after)

    def block_user(self, chat_id: ChatId) -> None:
        """Simulate a citizen who blocked the bot: sends to that chat answer 403."""
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: ChatId) -> None:
        self._blocked.discard(chat_id)

    def set_latency(self, seconds: float, method: str = "*") -> None:
        """Delay answers (per method or ``"*"``) to test timeouts and concurrency."""
        self._latency[method] = seconds

    # ---------------------------------------------------------------- injecting updates

    def _enqueue(self, body: JSONDict) -> JSONDict:
        update = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        self._queue.append(_QueuedUpdate(copy.deepcopy(update)))
        self._notify_updates()
        return update

    def inject(self, update: JSONDict) -> JSONDict:
        """Queue a raw update as given (an update_id is added only if missing). Injecting the
        same update twice delivers it twice, to test idempotency."""
        queued = json.loads(json.dumps(update))
        if "update_id" not in queued:
            queued = {"update_id": self._next_update_id, **queued}
        self._next_update_id = max(self._next_update_id, int(queued["update_id"]) + 1)
        self._queue.append(_QueuedUpdate(copy.deepcopy(queued)))
        self._notify_updates()
        return queued

    def redeliver(self, update: JSONDict) -> JSONDict:
        """Put an already delivered update back, as Telegram does when a confirmation is lost."""
        if "update_id" not in update:
            raise ValueError("redeliver needs an update with an update_id")
        return self.inject(update)

    def _remember_user(
        self, chat_id: ChatId, first_name: str, username: str | None, language_code: str | None
    ) -> None:
        info: JSONDict = {"first_name": first_name, "language_code": language_code}
        if username:
            info["username"] = username
        self._chat_info[chat_id] = info

    def _user_json(self, chat_id: ChatId, user_id: int | None) -> JSONDict:
        info = self._chat_info.get(chat_id, {})
        uid = user_id if user_id is not None else chat_id
        user: JSONDict = {
            "id": uid,
            "is_bot": False,
            "first_name": info.get("first_name", "Citizen"),
        }
        if info.get("username"):
            user["username"] = info["username"]
        if info.get("language_code"):
            user["language_code"] = info["language_code"]
        return user

    def _chat_json(self, chat_id: ChatId) -> JSONDict:
        if isinstance(chat_id, str):  # "@channelusername"
            return {"id": -1001000000000 - len(chat_id), "type": "channel", "title": chat_id}
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}
        info = self._chat_info.get(chat_id, {})
        chat: JSONDict = {
            "id": chat_id,
            "type": "private",
            "first_name": info.get("first_name", "Citizen"),
        }
        if info.get("username"):
            chat["username"] = info["username"]
        return chat

    def _new_message_id(self, chat_id: ChatId) -> int:
        """Message ids rise per chat and are shared by both sides, as in private chats."""
        mid = self._next_mid.get(chat_id, 1)
        self._next_mid[chat_id] = mid + 1
        return mid

    def _user_message(
        self,
        chat_id: int,
        payload: JSONDict,
        *,
        user_id: int | None,
        first_name: str,
        language_code: str | None,
        username: str | None,
    ) -> JSONDict:
        self._remember_user(chat_id, first_name, username, language_code)
        message = {
            "message_id": self._new_message_id(chat_id),
            "from": self._user_json(chat_id, user_id),
            "chat": self._chat_json(chat_id),
            "date": _now(),
            **payload,
        }
        return self._enqueue({"message": message})

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Citizen",
        language_code: str | None = "vi",
        username: str | None = None,
    ) -> JSONDict:
        """A citizen types ``text``; commands get the bot_command entity PTB's CommandHandler
        needs."""
        payload: JSONDict = {"text": text}
        if m := _BOT_COMMAND_RE.match(text):
            payload["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(m.group(0))}
            ]
        return self._user_message(
            chat_id,
            payload,
            user_id=user_id,
            first_name=first_name,
            language_code=language_code,
            username=username,
        )

    def send_photo(
        self,
        chat_id: int,
        content: bytes = DEFAULT_PNG,
        caption: str | None = None,
        *,
        user_id: int | None = None,
        first_name: str = "Citizen",
        language_code: str | None = "vi",
    ) -> JSONDict:
        """A citizen sends a photo; getFile and the download URL then serve ``content``."""
        payload: JSONDict = {"photo": self._register_photo(content)}
        if caption is not None:
            payload["caption"] = caption
        return self._user_message(
            chat_id,
            payload,
            user_id=user_id,
            first_name=first_name,
            language_code=language_code,
            username=None,
        )

    def send_document(
        self,
        chat_id: int,
        content: bytes = b"%PDF-1.4\n% fake\n",
        file_name: str = "report.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        *,
        user_id: int | None = None,
        first_name: str = "Citizen",
        language_code: str | None = "vi",
    ) -> JSONDict:
        """A citizen sends a file; getFile and the download URL then serve ``content``."""
        stored = self._register_file("document", content, file_name, mime_type)
        payload: JSONDict = {"document": _document_json(stored)}
        if caption is not None:
            payload["caption"] = caption
        return self._user_message(
            chat_id,
            payload,
            user_id=user_id,
            first_name=first_name,
            language_code=language_code,
            username=None,
        )

    def send_sticker(
        self,
        chat_id: int,
        *,
        emoji: str = "👍",
        user_id: int | None = None,
        first_name: str = "Citizen",
        language_code: str | None = "vi",
    ) -> JSONDict:
        """A citizen sends a sticker: content the bot must politely refuse."""
        stored = self._register_file("sticker", b"RIFF\x00\x00\x00\x00WEBP", None, "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.content),
        }
        return self._user_message(
            chat_id,
            {"sticker": sticker},
            user_id=user_id,
            first_name=first_name,
            language_code=language_code,
            username=None,
        )

    def send_location(
        self,
        chat_id: int,
        lat: float,
        lon: float,
        *,
        user_id: int | None = None,
        first_name: str = "Citizen",
        language_code: str | None = "vi",
    ) -> JSONDict:
        """A citizen shares a location."""
        return self._user_message(
            chat_id,
            {"location": {"latitude": lat, "longitude": lon}},
            user_id=user_id,
            first_name=first_name,
            language_code=language_code,
            username=None,
        )

    def press(
        self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None
    ) -> JSONDict:
        """A citizen presses an inline button. ``data`` is not checked against the keyboard and
        the message need not exist, so tests can forge presses."""
        query_id = str(4_000_000_000_000_000_000 + next(self._callback_seq) * 7919)
        stored = self._by_id.get((chat_id, message_id))
        if stored is not None:
            message = self._message_json(stored)
        else:
            message = {
                "message_id": message_id,
                "from": self.bot_user,
                "chat": self._chat_json(chat_id),
                "date": _now(),
            }
        query = {
            "id": query_id,
            "from": self._user_json(chat_id, user_id),
            "chat_instance": str(-7_000_000_000_000_000_000 - chat_id),
            "data": data,
            "message": message,
        }
        self._callback_queries[query_id] = query
        return self._enqueue({"callback_query": query})

    def click(
        self,
        chat_id: int,
        label: str,
        *,
        message_id: int | None = None,
        user_id: int | None = None,
    ) -> JSONDict:
        """Press the button labelled ``label`` on the last (or given) bot message."""
        message = self._message_for(chat_id, message_id)
        for text, data in message.buttons:
            if text == label and data is not None:
                return self.press(chat_id, message.message_id, data, user_id=user_id)
        raise AssertionError(
            f"no callback button {label!r} on message {message.summary()} in chat {chat_id}"
        )

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by getUpdates (delivered or not)."""
        return [copy.deepcopy(q.update) for q in self._queue]

    async def post_update(
        self, url: str, update: JSONDict, secret_token: str | None = None
    ) -> int:
        """Deliver an update to the bot's webhook like Telegram does; returns the HTTP status.

        The update is removed from the getUpdates queue on success, since Telegram delivers each
        update through one channel only."""
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(url, content=json.dumps(update), headers=headers)
        self.webhook_deliveries.append((url, update, response.status_code))
        if 200 <= response.status_code < 300:
            for queued in self._queue:
                if queued.update == update:
                    self._queue.remove(queued)
                    break
        self._notify_state()
        return response.status_code

    # ---------------------------------------------------------------- inspection

    def messages(self, chat_id: ChatId) -> list[SentMessage]:
        """Messages the bot sent to ``chat_id``, oldest first (live objects: edits show up)."""
        return list(self._sent.get(chat_id, []))

    def all_messages(self) -> list[SentMessage]:
        return [m for msgs in self._sent.values() for m in msgs]

    def last_message(self, chat_id: ChatId) -> SentMessage:
        msgs = self._sent.get(chat_id)
        if not msgs:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}; {self.describe()}")
        return msgs[-1]

    def _message_for(self, chat_id: ChatId, message_id: int | None) -> SentMessage:
        if message_id is None:
            return self.last_message(chat_id)
        stored = self._by_id.get((chat_id, message_id))
        if stored is None:
            raise AssertionError(f"no bot message {message_id} in chat {chat_id}")
        return stored

    def buttons(
        self, chat_id: ChatId, message_id: int | None = None
    ) -> list[tuple[str, str | None]]:
        """(label, callback_data) of the last (or given) message's inline keyboard."""
        return self._message_for(chat_id, message_id).buttons

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def commands(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """Command lists keyed by (scope, language_code). Scope is the scope type, with the ids
        appended for per-chat scopes ("chat:42", "chat_member:42:7"); language "" = any."""
        return {key: list(value) for key, value in self._commands.items()}

    # ---------------------------------------------------------------- files

    def _register_file(
        self, kind: str, content: bytes, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        seq = next(self._file_seq)
        prefix = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC"}.get(kind, "AAAC")
        suffix = ""
        if kind == "photo":
            suffix = ".jpg"
        elif kind == "sticker":
            suffix = ".webp"
        elif file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        folder = {"photo": "photos", "document": "documents", "sticker": "stickers"}[kind]
        stored = StoredFile(
            file_id=f"{prefix}{seq:06d}TESTFILE",
            file_unique_id=f"AQAD{seq:06d}",
            file_path=f"{folder}/file_{seq}{suffix}",
            content=content,
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _register_photo(self, content: bytes) -> list[JSONDict]:
        """Photos come as an array of sizes; large ones get a thumbnail entry too (same bytes)."""
        width, height = _image_size(content)
        sizes = [(width, height)]
        if max(width, height) > 90:
            scale = 90 / max(width, height)
            sizes.insert(0, (max(1, round(width * scale)), max(1, round(height * scale))))
        result = []
        for w, h in sizes:
            stored = self._register_file("photo", content, None, "image/jpeg")
            result.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(content),
                    "width": w,
                    "height": h,
                }
            )
        return result

    def file_content(self, file_id: str) -> bytes:
        """Bytes behind a file_id the fake knows (what a download would return)."""
        return self._files[file_id].content

    # ---------------------------------------------------------------- storing bot messages

    def _store(self, message: SentMessage) -> JSONDict:
        self._sent.setdefault(message.chat_id, []).append(message)
        self._by_id[(message.chat_id, message.message_id)] = message
        self._notify_state()
        return self._message_json(message)

    def _message_json(self, message: SentMessage) -> JSONDict:
        result: JSONDict = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": self._chat_json(message.chat_id),
            "date": message.date,
        }
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        if message.kind == "text":
            result["text"] = message.plain_text
            if message.entities:
                result["entities"] = message.entities
        else:
            result[message.kind] = message.media
            if message.plain_caption:
                result["caption"] = message.plain_caption
                if message.caption_entities:
                    result["caption_entities"] = message.caption_entities
        # Telegram echoes only inline keyboards back in the Message.
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = message.reply_markup
        return result

    # ---------------------------------------------------------------- validation helpers

    def _chat_id(self, params: JSONDict) -> ChatId:
        chat_id = _norm_chat(params.get("chat_id"))
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, str) and not chat_id.startswith("@"):
            raise _bad_request("chat not found")
        return chat_id

    def _check_reachable(self, chat_id: ChatId) -> None:
        if chat_id in self._blocked:
            raise ApiError(403, ERR_BLOCKED)

    @staticmethod
    def _render(text: str, parse_mode: Any, entities: Any) -> tuple[str, list[JSONDict]]:
        """Return the visible text and entities, validating HTML like Telegram."""
        if parse_mode in (None, ""):
            return text, list(entities) if isinstance(entities, list) else []
        mode = str(parse_mode).lower()
        if mode == "html":
            try:
                return parse_telegram_html(text)
            except HtmlParseError as exc:
                raise ApiError(400, f"{ERR_PARSE_ENTITIES}: {exc}") from None
        if mode in ("markdown", "markdownv2"):
            return text, []  # not validated by the fake
        raise _bad_request(f"unsupported parse_mode {parse_mode!r}")

    def _checked_text(self, params: JSONDict) -> tuple[str, str, list[JSONDict]]:
        text = params.get("text")
        text = "" if text is None else str(text)
        plain, entities = self._render(text, params.get("parse_mode"), params.get("entities"))
        if not plain.strip():
            raise ApiError(400, ERR_TEXT_EMPTY)
        if _utf16_len(plain) > MAX_TEXT_LENGTH:
            raise ApiError(400, ERR_TEXT_TOO_LONG)
        return text, plain, entities

    @staticmethod
    def _checked_markup(markup: Any) -> JSONDict | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad_request("can't parse inline keyboard button: Text is not specified")
                if "callback_data" in button:
                    data = button["callback_data"]
                    size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                    if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                        raise ApiError(400, ERR_BUTTON_DATA)
                elif not _BUTTON_ACTIONS.intersection(button):
                    raise _bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
        return markup

    def _message_to_edit(self, params: JSONDict) -> SentMessage:
        if "chat_id" not in params and params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        stored = self._by_id.get((chat_id, message_id)) if isinstance(message_id, int) else None
        if stored is None:
            raise ApiError(400, ERR_EDIT_NOT_FOUND)
        return stored

    # ---------------------------------------------------------------- Bot API methods

    async def _return_true(self, params: JSONDict) -> bool:
        return True

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _set_webhook(self, params: JSONDict) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.match(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates") is True:
            self._queue.clear()
        # Plain http is accepted (unlike Telegram) so a local test webhook can register.
        self.webhook_url = url or None
        self.webhook_secret = str(secret) if (url and secret is not None) else None
        if isinstance(params.get("allowed_updates"), list):
            self.webhook_allowed_updates = params["allowed_updates"]
        self._notify_updates()
        return True

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = None
        self.webhook_secret = None
        if params.get("drop_pending_updates") is True:
            self._queue.clear()
        self._notify_updates()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            if self.webhook_allowed_updates is not None:
                info["allowed_updates"] = self.webhook_allowed_updates
        return info

    def _confirm(self, offset: Any) -> None:
        """Apply getUpdates' offset: confirmed updates are forgotten for good.

        Only updates that were actually delivered can be confirmed, so an update injected (or
        redelivered) with an old update_id is still delivered once."""
        if not isinstance(offset, int) or offset == 0:
            return
        if offset < 0:
            del self._queue[:offset]
            return
        self._queue = [q for q in self._queue if not (q.delivered and q.update_id < offset)]

    def _is_wanted(self, queued: _QueuedUpdate) -> bool:
        allowed = self._allowed_updates
        if allowed:
            return queued.kind in allowed
        return queued.kind not in _OPT_IN_UPDATE_TYPES

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise ApiError(409, ERR_WEBHOOK_ACTIVE)
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = params["allowed_updates"]
        limit = params.get("limit", 100)
        limit = min(max(limit if isinstance(limit, int) else 100, 1), 100)
        raw_timeout = params.get("timeout", 0)
        timeout = float(raw_timeout) if isinstance(raw_timeout, int | float) else 0.0
        timeout = min(timeout, self.long_poll_cap)

        self._poll_generation += 1
        generation = self._poll_generation
        self._notify_updates()  # an older poll still waiting now gets 409, as on Telegram
        self._confirm(params.get("offset"))

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._queue = [q for q in self._queue if self._is_wanted(q)]
            batch = sorted(self._queue, key=lambda q: q.update_id)[:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                break
            changed = self._updates_changed
            try:
                async with asyncio.timeout(remaining):
                    await changed.wait()
            except TimeoutError:
                pass
            if generation != self._poll_generation:
                raise ApiError(409, ERR_OTHER_POLLER)
            if self.webhook_url:
                raise ApiError(409, ERR_WEBHOOK_ACTIVE)
        for queued in batch:
            queued.delivered = True
        self._notify_state()
        return [copy.deepcopy(q.update) for q in batch]

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        self._check_reachable(chat_id)
        text, plain, entities = self._checked_text(params)
        markup = self._checked_markup(params.get("reply_markup"))
        return self._store(
            SentMessage(
                chat_id=chat_id,
                message_id=self._new_message_id(chat_id),
                kind="text",
                date=_now(),
                text=text,
                parse_mode=params.get("parse_mode"),
                reply_markup=markup,
                plain_text=plain,
                entities=entities,
                params=params,
            )
        )

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        return await self._send_media(params, "photo")

    async def _send_document(self, params: JSONDict) -> JSONDict:
        return await self._send_media(params, "document")

    def _media_source(self, params: JSONDict, kind: str) -> StoredFile | UploadedFile | str:
        """Resolve the file parameter: an upload, a known file_id, or an HTTP URL."""
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            if not value.content:
                raise _bad_request("file must be non-empty")
            return value
        if isinstance(value, str) and value:
            if value in self._files:
                return self._files[value]
            if value.startswith(("http://", "https://")):
                return value
            raise _bad_request("wrong file identifier/HTTP URL specified")
        raise _bad_request(f"there is no {kind} in the request")

    async def _send_media(self, params: JSONDict, kind: str) -> JSONDict:
        chat_id = self._chat_id(params)
        self._check_reachable(chat_id)
        source = self._media_source(params, kind)
        caption = params.get("caption")
        caption = None if caption is None else str(caption)
        plain_caption, caption_entities = None, []
        if caption is not None:
            plain_caption, caption_entities = self._render(
                caption, params.get("parse_mode"), params.get("caption_entities")
            )
            if _utf16_len(plain_caption) > MAX_CAPTION_LENGTH:
                raise ApiError(400, ERR_CAPTION_TOO_LONG)
        markup = self._checked_markup(params.get("reply_markup"))

        if isinstance(source, UploadedFile):
            content, filename, mime = source.content, source.filename, source.content_type
        elif isinstance(source, StoredFile):
            content, filename, mime = source.content, source.file_name, source.mime_type
        else:  # a URL Telegram would fetch; the fake has no bytes for it
            content, filename, mime = b"", source.rsplit("/", 1)[-1] or None, None

        if kind == "photo":
            media: Any = self._register_photo(content)
            file_id = media[-1]["file_id"]
        else:
            stored = self._register_file("document", content, filename, mime)
            media = _document_json(stored)
            file_id = stored.file_id
        return self._store(
            SentMessage(
                chat_id=chat_id,
                message_id=self._new_message_id(chat_id),
                kind=kind,
                date=_now(),
                parse_mode=params.get("parse_mode"),
                reply_markup=markup,
                caption=caption,
                plain_caption=plain_caption,
                caption_entities=caption_entities,
                content=content,
                filename=filename,
                mime_type=mime,
                file_id=file_id,
                media=media,
                params=params,
            )
        )

    async def _send_chat_action(self, params: JSONDict) -> bool:
        chat_id = self._chat_id(params)
        self._check_reachable(chat_id)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self.chat_actions.append((chat_id, str(action)))
        return True

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        if query_id not in self._callback_queries or query_id in self.callback_answers:
            raise ApiError(400, ERR_QUERY_TOO_OLD)
        self.callback_answers[query_id] = {
            "text": None if text is None else str(text),
            "show_alert": bool(params.get("show_alert", False)),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
            "data": self._callback_queries[query_id].get("data"),
            "at": time.monotonic(),
        }
        self._notify_state()
        return True

    def _apply_edit(
        self,
        message: SentMessage,
        method: str,
        *,
        text: str | None,
        plain: str | None,
        entities: list[JSONDict] | None,
        parse_mode: str | None,
        markup: JSONDict | None,
    ) -> JSONDict:
        message.edits.append(
            MessageEdit(
                method=method,
                at=time.monotonic(),
                before_text=message.text,
                before_reply_markup=message.reply_markup,
                text=text if text is not None else message.text,
                reply_markup=markup,
                parse_mode=parse_mode if text is not None else message.parse_mode,
            )
        )
        if text is not None:
            message.text, message.plain_text = text, plain
            message.entities = entities or []
            message.parse_mode = parse_mode
        message.reply_markup = markup
        message.edit_date = _now()
        self._notify_state()
        return self._message_json(message)

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        message = self._message_to_edit(params)
        if message.kind != "text":
            raise _bad_request("there is no text in the message to edit")
        text, plain, entities = self._checked_text(params)
        # Leaving reply_markup out of editMessageText removes the inline keyboard on Telegram.
        markup = self._checked_markup(params.get("reply_markup"))
        if text == message.text and markup == message.reply_markup:
            raise ApiError(400, ERR_NOT_MODIFIED)
        return self._apply_edit(
            message,
            "editMessageText",
            text=text,
            plain=plain,
            entities=entities,
            parse_mode=params.get("parse_mode"),
            markup=markup,
        )

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        message = self._message_to_edit(params)
        markup = self._checked_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, ERR_NOT_MODIFIED)
        return self._apply_edit(
            message,
            "editMessageReplyMarkup",
            text=None,
            plain=None,
            entities=None,
            parse_mode=None,
            markup=markup,
        )

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope")
        if scope is None:
            scope_key = "default"
        elif not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise _bad_request("can't parse BotCommandScope JSON object")
        elif scope["type"] in ("chat", "chat_administrators"):
            scope_key = f"{scope['type']}:{scope.get('chat_id')}"
        elif scope["type"] == "chat_member":
            scope_key = f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
        else:
            scope_key = str(scope["type"])
        language = str(params.get("language_code") or "")
        if language and not _LANGUAGE_RE.match(language):
            raise _bad_request("invalid language code specified")
        return scope_key, language

    async def _set_my_commands(self, params: JSONDict) -> bool:
        key = self._commands_key(params)
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
            raise _bad_request("can't parse commands JSON array")
        parsed: list[tuple[str, str]] = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            command, description = str(item.get("command", "")), str(item.get("description", ""))
            if not _COMMAND_NAME_RE.match(command):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            parsed.append((command, description))
        if parsed:
            self._commands[key] = parsed
        else:
            self._commands.pop(key, None)
        self._notify_state()
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = self._commands_key(params)
        return [{"command": c, "description": d} for c, d in self._commands.get(key, [])]

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        self._commands.pop(self._commands_key(params), None)
        self._notify_state()
        return True

    async def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        return stored.as_file()


def _norm_chat(value: Any) -> Any:
    """chat_id arrives as int (form/JSON) or digit string (query/JSON); compare as int."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def _document_json(stored: StoredFile) -> JSONDict:
    document: JSONDict = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
    }
    if stored.file_name:
        document["file_name"] = stored.file_name
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    return document
