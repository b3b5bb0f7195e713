"""What both fake APIs share: describing what the bot sent, and waiting for it."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any, Protocol


class _Sent(Protocol):
    def summary(self) -> str: ...


class _Call(Protocol):
    method: str


class RecordingServer:
    """Mixed into a fake: it keeps `_sent` (chat → messages), `calls`, and `_state_changed`,
    an event replaced on every change."""

    _sent: dict[Any, list[Any]]
    calls: list[Any]
    _state_changed: asyncio.Event

    def describe(self) -> str:
        """Human-readable summary of what the bot sent, for assertion messages."""
        lines = ["sent messages:"]
        for chat_id, sent in self._sent.items():
            lines.append(f"  chat {chat_id}: " + "; ".join(m.summary() for m in sent))
        if len(lines) == 1:
            lines.append("  (none)")
        recent = ", ".join(c.method for c in self.calls[-15:])
        lines.append(f"last calls: {recent or '(none)'}")
        return "\n".join(lines)

    async def wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109 - the requested test-helper API
        *,
        message: str | None = None,
    ) -> Any:
        """Wait until ``predicate()`` (sync or async) is truthy and return its value.

        Wakes on every state change and also every 50 ms, so predicates over outside state
        (a database) work too."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                what = message or "condition"
                raise AssertionError(f"{what} not met within {timeout}s\n{self.describe()}")
            changed = self._state_changed
            try:
                async with asyncio.timeout(min(remaining, 0.05)):
                    await changed.wait()
            except TimeoutError:
                pass

    async def wait_for_messages(
        self,
        chat_id: Any,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the requested test-helper API
    ) -> list[Any]:
        """Wait until the bot has sent at least ``count`` messages to ``chat_id``."""
        await self.wait_until(
            lambda: len(self._sent.get(chat_id, [])) >= count,
            timeout,
            message=f"{count} message(s) to chat {chat_id}",
        )
        return list(self._sent.get(chat_id, []))
