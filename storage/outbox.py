"""The outbox: replies written inside the turn's transaction, delivered after commit."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.identity import keys_of
from storage.models import OutboxMessage

PENDING, SENT, FAILED, UNREACHABLE = "pending", "sent", "failed", "unreachable"


_ENQUEUE = insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)


class Outgoing(NamedTuple):
    """A message to write to the outbox: the chat it goes to and its payload."""

    channel: str
    chat_id: str
    payload: dict[str, Any]


async def enqueue(
    messages: Sequence[Outgoing], now: datetime, *, session: AsyncSession
) -> list[int]:
    """Write messages to the outbox with Core (no ORM objects, no flush); their ids, in the
    order given, which is the order they are delivered in. One plain INSERT … RETURNING per
    message: a turn writes one or two, and SQLAlchemy's batched form costs more than it saves
    for so few. Each row carries the chat's keyed hash and its sealed id."""
    keys = keys_of(session)
    rows = [
        {
            "channel": channel,
            "chat_ref": keys.ref(channel, chat_id),
            "address": keys.seal(chat_id),
            "payload": payload,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for channel, chat_id, payload in messages
    ]
    return [(await session.execute(_ENQUEUE, row)).scalar_one() for row in rows]


@dataclass(frozen=True, slots=True)
class Delivery:
    """A pending message as the dispatcher needs it, detached from the session."""

    id: int
    channel: str
    chat_ref: str
    """Keeps one chat's messages in order."""
    chat_id: str
    payload: dict[str, Any]
    attempts: int
    parts_sent: int
    """Parts of a long reply already delivered."""
    next_attempt_at: datetime
    created_at: datetime
    """How old the message is decides when it is given up."""
    batch: str | None = None


async def pending(
    limit: int,
    *,
    channels: Collection[str],
    skip: Collection[str] = (),
    session: AsyncSession,
) -> list[Delivery]:
    """The oldest pending messages of the `channels` this process serves, in the order they
    were written, leaving out the chats in `skip` (being delivered already): rows nobody here
    can send must not fill the batch and starve the others."""
    query = select(
        OutboxMessage.id,
        OutboxMessage.channel,
        OutboxMessage.chat_ref,
        OutboxMessage.address,
        OutboxMessage.payload,
        OutboxMessage.attempts,
        OutboxMessage.parts_sent,
        OutboxMessage.next_attempt_at,
        OutboxMessage.created_at,
        OutboxMessage.batch,
    ).where(OutboxMessage.status == PENDING, OutboxMessage.channel.in_(list(channels)))
    if skip:
        query = query.where(OutboxMessage.chat_ref.not_in(list(skip)))
    rows = await session.execute(
        query.order_by(OutboxMessage.batch.is_not(None), OutboxMessage.id).limit(limit)
    )
    keys = keys_of(session)
    return [
        Delivery(
            id_, channel, ref, keys.unseal(address), payload, attempts, parts, due, made, batch
        )
        for id_, channel, ref, address, payload, attempts, parts, due, made, batch in rows.all()
    ]


async def has_pending(channel: str, chat_id: str, *, session: AsyncSession) -> bool:
    """Whether replies to this chat (not announcements) still wait to be delivered."""
    ref = keys_of(session).ref(channel, chat_id)
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.chat_ref == ref,
            OutboxMessage.status == PENDING,
            OutboxMessage.batch.is_(None),
        )
        .limit(1)
    )
    return found is not None


async def unserved_channels(channels: Collection[str], *, session: AsyncSession) -> list[str]:
    """Channels with pending messages that none of `channels` can send."""
    rows = await session.scalars(
        select(OutboxMessage.channel)
        .where(OutboxMessage.status == PENDING, OutboxMessage.channel.not_in(list(channels)))
        .distinct()
    )
    return sorted(rows.all())


async def mark_sent(message_id: int, now: datetime, *, session: AsyncSession) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=SENT, sent_at=now, attempts=OutboxMessage.attempts + 1, last_error=None)
    )


async def mark_parts_sent(message_id: int, parts: int, *, session: AsyncSession) -> None:
    """Record that the first `parts` parts of a message went out."""
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(parts_sent=parts)
    )


async def mark_retry(
    message_id: int, error: str, retry_at: datetime, *, session: AsyncSession
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            attempts=OutboxMessage.attempts + 1, last_error=error[:500], next_attempt_at=retry_at
        )
    )


async def mark_given_up(
    message_id: int, status: str, error: str, *, session: AsyncSession
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=status, attempts=OutboxMessage.attempts + 1, last_error=error[:500])
    )


async def due_now(channel: str, now: datetime, *, session: AsyncSession) -> None:
    """Make every pending message of `channel` that waits for a retry due now: the channel
    works again after an outage, and what waited for it should not wait for its backoff."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.status == PENDING,
            OutboxMessage.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
    )


async def forget_chat(channel: str, chat_id: str, *, session: AsyncSession) -> None:
    """Drop every message to a chat that is no longer pending (the /forget of a person)."""
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.channel == channel,
            OutboxMessage.chat_ref == keys_of(session).ref(channel, chat_id),
            OutboxMessage.status != PENDING,
        )
    )


def backoff(attempts: int, *, base: float = 1.0, cap: float = 300.0) -> timedelta:
    """Exponential backoff for the n-th failed attempt (1 s, 2 s, 4 s … at most 5 minutes)."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts)))
