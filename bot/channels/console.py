"""The terminal chat: the same conversations, typed in a terminal, options as numbered lines."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bot.channels.base import numbered_text
from handlers.messages import ConversationKey, Incoming, OutgoingFile, Reply

CHANNEL = "console"
LOCAL_CHAT = "local"


def _print(_chat_id: str, text: str) -> None:
    print(text)


class ConsoleChannel:
    """Writes replies to the terminal, or to any `write(chat_id, text)` (the dialogue tests).

    A file sent with a reply (a chart, an export) is saved into `files`, when given, and its
    line shows where, so the terminal can keep what a messenger would have delivered."""

    name = CHANNEL
    per_chat_limit: tuple[int, float] | None = None

    def __init__(
        self, write: Callable[[str, str], None] = _print, files: Path | None = None
    ) -> None:
        self._write = write
        self._files = files

    def parts(self, reply: Reply) -> list[Reply]:
        return [reply]

    async def send_part(self, chat_id: str, part: Reply) -> None:
        if part.file is not None and self._files is not None:
            saved = await asyncio.to_thread(save_file, self._files, part.file)
            part = replace(part, file=replace(part.file, name=str(saved)))
        self._write(chat_id, numbered_text(part) + "\n")


def save_file(folder: Path, file: OutgoingFile) -> Path:
    """Write a file into `folder` under its own name (never outside it), numbering the name
    rather than replacing an earlier file."""
    folder.mkdir(parents=True, exist_ok=True)
    base = Path(file.name).name
    name = Path(base if base not in ("", ".", "..") else "file")
    path = folder / name
    number = 1
    while path.exists():
        path = folder / f"{name.stem}-{number}{name.suffix}"
        number += 1
    path.write_bytes(file.content)
    return path.resolve()


def console_incoming(
    line: str, *, chat_id: str = LOCAL_CHAT, language: str | None = None
) -> Incoming:
    """Turn a typed line into an Incoming; a line starting with "/" is a command."""
    return Incoming.typed(
        line.strip(),
        key=ConversationKey(CHANNEL, chat_id),
        update_id=uuid.uuid4().hex,
        user_id=chat_id,
        language=language,
        numbered=True,
    )


async def read_line(prompt: str = "> ") -> str | None:
    """One line from the terminal without blocking the event loop; None at end of input.

    The loop watches stdin itself, so Ctrl+C stops the chat at once; where stdin cannot be
    watched (a plain file), a worker thread reads it instead.
    """
    print(prompt, end="", flush=True)
    loop = asyncio.get_running_loop()
    arrived: asyncio.Future[str] = loop.create_future()

    def on_readable() -> None:
        if not arrived.done():
            arrived.set_result(sys.stdin.readline())

    try:
        loop.add_reader(sys.stdin, on_readable)
    except (OSError, ValueError, NotImplementedError):
        line = await asyncio.to_thread(sys.stdin.readline)
    else:
        try:
            line = await arrived
        finally:
            loop.remove_reader(sys.stdin)
    return line.rstrip("\n") if line else None
