"""Links that open the Telegram bot with a start payload: an officer's invite and a desk's QR
code. The router reads `join_<code>` back from /start; the rating reads
`r_<agency>[_<service>]`."""

from __future__ import annotations

JOIN = "join_"
_UNNAMED = "<bot>"
"""Stands in for the bot's username until TELEGRAM_BOT_USERNAME is set."""


def start_link(bot_username: str | None, payload: str) -> str:
    return f"https://t.me/{bot_username or _UNNAMED}?start={payload}"


def invite_link(bot_username: str | None, code: str) -> str:
    return start_link(bot_username, JOIN + code)
