"""The terminal chat: the same conversations, typed in a terminal, options as numbered lines."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from bot.channels.base import numbered_text
from handlers.messages import ConversationKey, Incoming, Reply, split_command

CHANNEL = "console"


class ConsoleChannel:
    """Writes replies to the terminal (or to any `write` callable, as the dialogue tests do)."""

    name = CHANNEL
    per_chat_limit: tuple[int, float] | None = None

    def __init__(self, write: Callable[[str], None] = print) -> None:
        self._write = write

    async def send(self, chat_id: str, reply: Reply) -> None:
        self._write(numbered_text(reply) + "\n")


def console_incoming(
    line: str, *, chat_id: str = "local", language: str | None = None
) -> Incoming:
    """Turn a typed line into an Incoming; a line starting with "/" is a command."""
    text = line.strip()
    command = split_command(text)
    return Incoming(
        key=ConversationKey(CHANNEL, chat_id),
        update_id=uuid.uuid4().hex,
        user_id=chat_id,
        text=None if command else text,
        command=command[0] if command else None,
        command_args=command[1] if command else "",
        language=language,
    )


async def read_lines(prompt: str = "> ") -> str | None:
    """One line from the terminal without blocking the event loop; None at end of input."""
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None
