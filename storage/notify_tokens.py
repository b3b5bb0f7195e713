"""The buttons of messages sent to another chat, by token. Callers own the transaction.

A turn that notifies someone else only INSERTs here; it never reads or writes the recipient's
conversation row, so two turns notifying each other's chats cannot deadlock on PostgreSQL. Rows
are taken (and pruned) only in the recipient's own turn, which holds its conversation's lock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.identity import keys_of
from storage.models import NotifyToken

KEEP = 30
"""Notifications whose buttons still work, per chat: older ones are forgotten."""

_TABLE = NotifyToken.__table__


async def remember(
    channel: str,
    chat_id: str,
    token: str,
    targets: dict[str, Any],
    now: datetime,
    *,
    session: AsyncSession,
) -> None:
    """Store the buttons sent to a chat under `token`."""
    ref = keys_of(session).ref(channel, chat_id)
    await session.execute(
        insert(_TABLE).values(
            channel=channel, chat_ref=ref, token=token, targets=targets, created_at=now
        )
    )


async def take(
    channel: str, chat_id: str, token: str, *, session: AsyncSession
) -> dict[str, Any] | None:
    """The buttons behind `token` in this chat, forgotten as they are read (each notification's
    buttons work once); the chat's notifications beyond the newest `KEEP` go too."""
    ref = keys_of(session).ref(channel, chat_id)
    mine = (_TABLE.c.channel == channel, _TABLE.c.chat_ref == ref)
    targets = await session.scalar(
        delete(_TABLE).where(*mine, _TABLE.c.token == token).returning(_TABLE.c.targets)
    )
    if targets is not None:
        newest = select(_TABLE.c.id).where(*mine).order_by(_TABLE.c.id.desc()).limit(KEEP)
        await session.execute(delete(_TABLE).where(*mine, _TABLE.c.id.not_in(newest)))
    return targets


async def forget(channel: str, chat_id: str, *, session: AsyncSession) -> None:
    """Every notification button of a chat (the person asked to be forgotten)."""
    ref = keys_of(session).ref(channel, chat_id)
    await session.execute(
        delete(_TABLE).where(_TABLE.c.channel == channel, _TABLE.c.chat_ref == ref)
    )
