"""The adapter contract, the errors a send may raise, and the text fallback for options."""

from __future__ import annotations

import base64
from typing import Any, Protocol

from handlers.messages import Choice, FileRequest, OutgoingFile, Reply


class DeliveryError(Exception):
    """A send failed; the subclass tells the dispatcher what to do next."""


class RetryLater(DeliveryError):
    """The platform asked us to wait (HTTP 429 retry_after); the whole channel pauses."""

    def __init__(self, seconds: float, reason: str = "rate limited") -> None:
        super().__init__(reason)
        self.seconds = seconds


class Transient(DeliveryError):
    """A network error, timeout or 5xx: try again later with backoff."""


class Unreachable(DeliveryError):
    """The user blocked the bot or the chat is gone: never retry."""


class Rejected(DeliveryError):
    """The platform refused the message itself (a bad request): retrying cannot help."""


class Channel(Protocol):
    """What the dispatcher needs from an adapter."""

    name: str
    per_chat_limit: tuple[int, float] | None
    """At most `burst` messages per `period` seconds to one chat; None for no pacing."""

    async def send(self, chat_id: str, reply: Reply) -> None: ...


def encode_reply(reply: Reply) -> dict[str, Any]:
    """The outbox payload of a reply (JSON; a file travels as base64)."""
    payload: dict[str, Any] = {
        "text": reply.text,
        "choices": [[c.id, c.label] for c in reply.choices],
        "token": reply.token,
        "html": reply.html,
    }
    if reply.file_request is not None:
        payload["file_request"] = {
            "kind": reply.file_request.kind,
            "params": reply.file_request.params,
        }
    if reply.file is not None:
        payload["file"] = {
            "name": reply.file.name,
            "mime_type": reply.file.mime_type,
            "content": base64.b64encode(reply.file.content).decode("ascii"),
        }
    return payload


def decode_reply(payload: dict[str, Any]) -> Reply:
    file = payload.get("file")
    request = payload.get("file_request")
    return Reply(
        text=payload["text"],
        choices=tuple(Choice(c[0], c[1]) for c in payload.get("choices", [])),
        token=payload.get("token"),
        html=bool(payload.get("html", False)),
        file=OutgoingFile(file["name"], file["mime_type"], base64.b64decode(file["content"]))
        if file
        else None,
        file_request=FileRequest(request["kind"], request["params"]) if request else None,
    )


def numbered_text(reply: Reply) -> str:
    """Options as numbered lines, for channels without buttons (terminal, Zalo)."""
    lines = [reply.text]
    if reply.file is not None:
        lines.append(f"[{reply.file.name} · {reply.file.mime_type} · {len(reply.file.content)} B]")
    lines += [f"  {number}. {choice.label}" for number, choice in enumerate(reply.choices, 1)]
    return "\n".join(lines)
