"""Neutral message types shared by every channel and every conversation.

Adapters translate platform updates into `Incoming` and `Reply` into platform calls; nothing in
`handlers/` ever sees a platform object.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import count
from typing import Any


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Identifies one chat on one channel; ids are strings because Zalo's are."""

    channel: str
    chat_id: str


class ChatKind(StrEnum):
    """A person's own chat with the bot, or a chat others read too (a group, a channel)."""

    PRIVATE = "private"
    GROUP = "group"


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    VOICE = "voice"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Attachment:
    """Something other than text the user sent; `ref` is the platform's handle to fetch it."""

    kind: AttachmentKind
    ref: str = ""
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    content: bytes | None = None
    """The file itself, fetched by the adapter when it is small enough to keep."""

    @property
    def media_type(self) -> str:
        """The file's MIME type; a photo that names none is a JPEG, as messengers send them."""
        return self.mime_type or ("image/jpeg" if self.kind is AttachmentKind.PHOTO else "")


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message or button press from a user, already stripped of platform details.

    `update_id` is unique per channel and makes a redelivered update a no-op. `command` is set
    for "/start payload" style input (name without slash, lower case), `command_args` holds the
    rest. `choice_token` is set when a button was pressed: it is resolved against the options the
    conversation offered, never trusted on its own. `chat_kind` tells the handlers whether
    others read the chat: what a group may do and receive is decided by `handlers/rooms.py`.
    """

    key: ConversationKey
    update_id: str
    user_id: str
    text: str | None = None
    command: str | None = None
    command_args: str = ""
    choice_token: str | None = None
    attachments: tuple[Attachment, ...] = ()
    language: str | None = None
    chat_kind: ChatKind = ChatKind.PRIVATE
    numbered: bool = False
    """The channel shows options as numbered lines, not buttons (terminal, Zalo): hints then
    ask for the number rather than a press."""

    @classmethod
    def typed(cls, text: str | None, **fields: Any) -> Incoming:
        """A message the user typed, on any channel: "/name args" is a command with its
        arguments, anything else is text; `fields` are the message's other fields."""
        command = split_command(text.strip()) if text else None
        if command is None:
            return cls(text=text, **fields)
        return cls(command=command[0], command_args=command[1], **fields)


@dataclass(frozen=True, slots=True)
class Choice:
    """An option offered to the user; `id` is short and meaningless outside its question."""

    id: str
    label: str


BACK = "back"
"""The id of the option that returns to the previous question."""


def option_numbers(choices: tuple[Choice, ...] | list[Choice]) -> list[tuple[str, Choice]]:
    """The number each option is shown and typed with: 1, 2, … in order, and 0 for "back", so
    going back never shares a number with an answer (a "6" on a 1–5 scale is no option)."""
    answers = count(1)
    return [("0" if c.id == BACK else str(next(answers)), c) for c in choices]


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """A file sent with a message: evidence to an officer, a chart or an export."""

    name: str
    mime_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class FileRequest:
    """A part of a reply the runtime makes after the turn, on a read connection, so no write
    transaction waits for it: a file (a chart, an export) or the reply's text itself (a
    summary). `kind` names the maker."""

    kind: str
    params: dict[str, object]


@dataclass(frozen=True, slots=True)
class Reply:
    """One outgoing message. `token` ties its choices to the question that offered them."""

    text: str
    choices: tuple[Choice, ...] = ()
    token: str | None = None
    file: OutgoingFile | None = None
    file_request: FileRequest | None = None
    buttons_only: bool = False
    """The choices are buttons of a notification: channels without buttons leave them out
    (the text names a command instead), so a typed number cannot be mistaken for them."""


@dataclass(slots=True)
class TurnResult:
    """What a turn produced, for the adapter: replies went to the outbox already.

    `notice` is a short line for the platform's button acknowledgement (a refused press), and
    `chosen_label` lets the adapter mark which option of the pressed message was taken.
    """

    duplicate: bool = False
    failed: bool = False
    """Nothing could be stored (not even the apology): the update must be delivered again."""
    notice: str | None = None
    chosen_label: str | None = None
    outbox_ids: list[int] = field(default_factory=list)


def split_command(text: str) -> tuple[str, str] | None:
    """ "/start@bot abc" -> ("start", "abc"); None when the text is not a command."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name, rest.strip()) if name else None


def encode_reply(reply: Reply) -> dict[str, Any]:
    """The outbox payload of a reply (JSON; a file travels as base64)."""
    payload: dict[str, Any] = {
        "text": reply.text,
        "choices": [[c.id, c.label] for c in reply.choices],
        "token": reply.token,
        "buttons_only": reply.buttons_only,
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
        file=OutgoingFile(file["name"], file["mime_type"], base64.b64decode(file["content"]))
        if file
        else None,
        file_request=FileRequest(request["kind"], request["params"]) if request else None,
        buttons_only=bool(payload.get("buttons_only", False)),
    )
