"""Conversation rows and the processed-update ledger. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.identity import keys_of
from storage.models import Conversation, ProcessedUpdate


async def claim_update(
    channel: str, update_id: str, now: datetime, *, session: AsyncSession
) -> bool:
    """Record an update as processed; False if it was processed before (a redelivery)."""
    seen = await session.get(ProcessedUpdate, (channel, update_id))
    if seen is not None:
        return False
    session.add(ProcessedUpdate(channel=channel, update_id=update_id, processed_at=now))
    await session.flush()
    return True


async def load_conversation(
    channel: str, chat_id: str, *, session: AsyncSession, lock: bool = True
) -> Conversation | None:
    """The chat's conversation, locked for this transaction when it will be changed (a row lock
    on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers), so two workers never
    interleave one chat."""
    ref = keys_of(session).ref(channel, chat_id)
    return await session.get(Conversation, (channel, ref), with_for_update=lock)


def new_conversation(
    channel: str, chat_id: str, now: datetime, *, session: AsyncSession
) -> Conversation:
    """An empty conversation for a chat seen for the first time, added to the session."""
    ref = keys_of(session).ref(channel, chat_id)
    row = Conversation(channel=channel, chat_ref=ref, state="", updated_at=now)
    session.add(row)
    return row
