"""The adapter contract, the errors a send may raise, and the text fallback for options."""

from __future__ import annotations

from typing import Protocol

from handlers.messages import Reply, option_numbers


class DeliveryError(Exception):
    """A send failed; the subclass tells the dispatcher what to do next."""


class RetryLater(DeliveryError):
    """The platform asked us to wait (HTTP 429 retry_after); the whole channel pauses."""

    def __init__(self, seconds: float, reason: str = "rate limited") -> None:
        super().__init__(reason)
        self.seconds = seconds


class Transient(DeliveryError):
    """A network error, timeout or 5xx: the platform is down; the channel pauses (its circuit
    breaker opens) and the message waits."""


class Unreachable(DeliveryError):
    """The user blocked the bot or the chat is gone: never retry."""


class Rejected(DeliveryError):
    """The platform refused the message itself (a bad request): retrying cannot help."""


class Channel(Protocol):
    """What the dispatcher needs from an adapter."""

    name: str
    per_chat_limit: tuple[int, float] | None
    """At most `burst` messages per `period` seconds to one chat; None for no pacing."""

    def parts(self, reply: Reply) -> list[Reply]:
        """The reply as the platform messages it takes (a long text in several), in order.
        The same reply always gives the same parts, so a retry resumes after those sent."""
        ...

    async def send_part(self, chat_id: str, part: Reply) -> None:
        """Send one part; a failure raises a `DeliveryError`."""
        ...


def numbered_text(reply: Reply) -> str:
    """Options as numbered lines, for channels without buttons (terminal, Zalo)."""
    lines = [reply.text]
    if reply.file is not None:
        lines.append(f"[{reply.file.name} · {reply.file.mime_type} · {len(reply.file.content)} B]")
    if not reply.buttons_only:
        lines += [f"  {n}. {choice.label}" for n, choice in option_numbers(reply.choices)]
    return "\n".join(lines)


def split_text(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` characters, cut at a line break, else a space, else anywhere."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = window.rfind("\n")
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip() or not parts:
        parts.append(rest)
    return [part for part in parts if part] or [text[:limit]]
