"""Zalo through the Zalo Bot API (Telegram-shaped, but different where it matters), with httpx.

- Updates have no id: an update is de-duplicated on event name + message id.
- getUpdates returns one update at a time; "ok": false with error code 408 means "nothing yet",
  whatever the HTTP status. The answer is checked for "ok" whatever the status.
- No buttons: options travel as numbered lines, and "2" or the label typed back selects.
- Text is cut into parts of at most 2,000 characters, at line or word boundaries.
- Images go by URL only, so charts are served by our own web server at an unguessable,
  expiring URL under PUBLIC_BASE_URL; without one, the file is described in text.
- Zalo publishes no limits: pacing is conservative, and a 429 is retried with backoff.
- Polling has no offset to hold back: the next update is fetched while turns run, in their
  chats' lanes, as long as there is room.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any

import httpx

from bot.channels.base import DeliveryError, Rejected, Transient, numbered_text, split_text
from bot.channels.lanes import DEFAULT_LIMIT, Lanes
from bot.engine import TurnEngine
from handlers.messages import (
    Attachment,
    AttachmentKind,
    ChatKind,
    ConversationKey,
    Incoming,
    OutgoingFile,
    Reply,
)

log = logging.getLogger(__name__)

CHANNEL = "zalo"
DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
TEXT_LIMIT = 2000
_NO_UPDATE = 408
PublishFile = Callable[[OutgoingFile], Awaitable[str | None]]
"""Stores a file where Zalo can fetch it and returns its public URL (None when there is none)."""


def to_incoming(update: Any) -> Incoming | None:
    """An Incoming for a Zalo update, or None when it carries no message from a person.

    Never raises: a payload of an unexpected shape is logged and dropped.
    """
    try:
        return _to_incoming(update)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        log.warning("malformed Zalo update dropped: %s", error)
        return None


def _to_incoming(update: Any) -> Incoming | None:
    if not isinstance(update, dict):
        return None
    event = str(update.get("event_name") or "")
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat_id = str(chat.get("id") or sender.get("id") or "")
    user_id = str(sender.get("id") or chat_id)
    message_id = str(message.get("message_id") or "")
    if not chat_id or not message_id or sender.get("is_bot") is True:
        return None
    key = ConversationKey(CHANNEL, chat_id)
    update_id = f"{event}:{message_id}"
    kind = _chat_kind(chat, chat_id, user_id)
    text = message.get("text") if event == "message.text.received" else None
    if isinstance(text, str):
        return Incoming.typed(
            text, key=key, update_id=update_id, user_id=user_id, chat_kind=kind, numbered=True
        )
    if event not in ("message.image.received", "message.sticker.received"):
        log.info("Zalo event %s answered as unsupported", event or "(none)")
    return Incoming(
        key=key,
        update_id=update_id,
        user_id=user_id,
        attachments=(_attachment(event, message),),
        chat_kind=kind,
        numbered=True,
    )


def _chat_kind(chat: dict[str, Any], chat_id: str, user_id: str) -> ChatKind:
    """Private only when Zalo says PRIVATE (or says nothing) and the chat is the sender's own:
    GROUP, or a type Zalo adds later, counts as a group, the safe side."""
    private = str(chat.get("chat_type") or "PRIVATE").upper() == "PRIVATE"
    return ChatKind.PRIVATE if private and chat_id == user_id else ChatKind.GROUP


def _attachment(event: str, message: dict[str, Any]) -> Attachment:
    if event == "message.image.received":
        url = message.get("photo_url") or message.get("photo") or message.get("url")
        return Attachment(AttachmentKind.PHOTO, str(url or ""), "photo.jpg", "image/jpeg")
    if event == "message.sticker.received":
        return Attachment(AttachmentKind.STICKER, str(message.get("sticker") or ""))
    return Attachment(AttachmentKind.OTHER)


def unwrap(body: Any) -> Any:
    """Webhook bodies come wrapped in {"ok", "result"} or flat; both give the update."""
    if isinstance(body, dict) and "result" in body and "event_name" not in body:
        return body["result"]
    return body


class ZaloApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code} {description}")
        self.code = code


def delivery_error(error: ZaloApiError) -> DeliveryError:
    """What a refused send means for delivery, decided here only: a request Zalo rejects (400,
    404) is permanent; anything else says Zalo is not serving us, and the channel pauses.
    (Connection errors and timeouts are `Transient` already, from `ZaloChannel.call`.)"""
    if error.code in (400, 404):
        return Rejected(str(error))
    return Transient(str(error))


class ZaloChannel:
    """Sends numbered-text replies to Zalo chats and polls or receives Zalo updates."""

    name = CHANNEL

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        per_chat_limit: tuple[int, float] | None = (1, 1.5),
        publish: PublishFile | None = None,
        download_limit_bytes: int = 10 * 1024 * 1024,
        client: httpx.AsyncClient | None = None,
        max_concurrent_turns: int = DEFAULT_LIMIT,
    ) -> None:
        self.per_chat_limit = per_chat_limit
        self.lanes = Lanes(max_concurrent_turns)
        self._endpoint = f"{base_url.rstrip('/')}/bot{token}"
        self.publish = publish
        self._download_limit = download_limit_bytes
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(15.0, read=45.0))

    async def close(self) -> None:
        await self.lanes.cancel()
        await self._client.aclose()

    async def call(self, method: str, *, read_timeout: float | None = None, **params: Any) -> Any:
        """One API call; the answer's "ok" decides, whatever the HTTP status."""
        timeout = (
            httpx.Timeout(15.0, read=read_timeout) if read_timeout else httpx.USE_CLIENT_DEFAULT
        )
        try:
            response = await self._client.post(
                f"{self._endpoint}/{method}", json=params, timeout=timeout
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise Transient(f"Zalo {method}: {error}") from error
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        code = (
            int(body.get("error_code") or response.status_code)
            if isinstance(body, dict)
            else response.status_code
        )
        description = str(body.get("description", "")) if isinstance(body, dict) else ""
        raise ZaloApiError(code, description)

    def parts(self, reply: Reply) -> list[Reply]:
        """Numbered text in messages of at most 2,000 characters; a file first, with the text
        as its caption, then its options."""
        if reply.file is None:
            return [Reply(text) for text in split_text(numbered_text(reply), TEXT_LIMIT)]
        options = numbered_text(replace(reply, file=None, text="")).strip()
        head = [Reply(reply.text, file=reply.file)]
        return head + (
            [Reply(text) for text in split_text(options, TEXT_LIMIT)] if options else []
        )

    async def send_part(self, chat_id: str, part: Reply) -> None:
        try:
            if part.file is not None:
                await self._send_file(chat_id, part.file, part.text)
            else:
                await self.call("sendMessage", chat_id=chat_id, text=part.text)
        except ZaloApiError as error:
            raise delivery_error(error) from error

    async def _send_text(self, chat_id: str, text: str) -> None:
        for part in split_text(text, TEXT_LIMIT):
            await self.call("sendMessage", chat_id=chat_id, text=part)

    async def _send_file(self, chat_id: str, file: OutgoingFile, caption: str) -> None:
        url = await self.publish(file) if self.publish else None
        if url is not None and file.mime_type.startswith("image/"):
            await self.call(
                "sendPhoto", chat_id=chat_id, photo=url, caption=split_text(caption, TEXT_LIMIT)[0]
            )
            return
        lines = [caption, f"[{file.name}]"] + ([url] if url else [])
        await self._send_text(chat_id, "\n".join(line for line in lines if line))

    async def fetch(self, incoming: Incoming) -> Incoming:
        """Download images a citizen sent (by URL) before the turn, within the size limit."""
        fetched = []
        for item in incoming.attachments:
            if item.kind is AttachmentKind.PHOTO and item.ref.startswith(("http://", "https://")):
                try:
                    response = await self._client.get(item.ref)
                    if (
                        response.status_code == 200
                        and len(response.content) <= self._download_limit
                    ):
                        item = replace(item, content=response.content, size=len(response.content))
                    else:
                        item = replace(item, size=len(response.content))
                except httpx.HTTPError as error:
                    log.warning("could not download a Zalo image: %s", error)
            fetched.append(item)
        return replace(incoming, attachments=tuple(fetched))

    async def handle(self, update: Any, engine: TurnEngine) -> bool:
        """Run the turn of one update (a webhook's) in its chat's lane. False when nothing could
        be stored, so a webhook must not answer 200."""
        return await self.lanes.run(to_incoming(update), partial(self._handle, engine))

    async def _handle(self, engine: TurnEngine, incoming: Incoming) -> bool:
        if incoming.attachments:
            incoming = await self.fetch(incoming)
        result = await engine.handle(incoming)
        if result.failed:
            log.error("a Zalo update could not be stored: %s", incoming.update_id)
        return not result.failed

    async def poll(self, engine: TurnEngine, *, poll_seconds: int = 30) -> None:
        """Fetch updates until cancelled and start each turn in its chat's lane, fetching the
        next while turns run (at most the lanes' limit waiting or running)."""
        try:
            await self.call("deleteWebhook")  # getUpdates returns nothing while one is set
        except (ZaloApiError, Transient) as error:
            log.info("Zalo deleteWebhook: %s", error)
        try:
            while True:
                await self.lanes.room()
                for item in await self._next_updates(poll_seconds):
                    self.lanes.run(to_incoming(item), partial(self._handle, engine))
        finally:
            await self.lanes.cancel()

    async def _next_updates(self, poll_seconds: int) -> list[Any]:
        """The next update (none when Zalo had nothing), retrying errors with bounded backoff."""
        failures = 0
        while True:
            try:
                update = await self.call(
                    "getUpdates", timeout=poll_seconds, read_timeout=poll_seconds + 15.0
                )
            except (ZaloApiError, Transient) as error:
                if isinstance(error, ZaloApiError) and error.code == _NO_UPDATE:
                    return []
                failures += 1
                log.warning("Zalo getUpdates failed: %s", error)
                await asyncio.sleep(min(30.0, 0.5 * 2**failures))
                continue
            return update if isinstance(update, list) else [update]
