"""The outbox: replies written inside the turn's transaction, delivered after commit.

Several dispatchers (one per worker process) share it by claiming: `claim` takes whole chats
with a lease, `renew_leases` is the claimer's heartbeat, `release_all` gives everything back
on a clean stop, and `mark_*` record what came of a send. A worker killed between sending a message
and `mark_sent` leaves it claimed until the lease ends; then another sends it again (at least
once: that message is the only one that can arrive twice, one per chat the worker was sending
to at that moment).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, case, delete, exists, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.identity import keys_of
from storage.models import OutboxMessage

PENDING, SENT, FAILED, UNREACHABLE = "pending", "sent", "failed", "unreachable"


_TABLE = OutboxMessage.__table__
_ENQUEUE = insert(_TABLE).returning(_TABLE.c.id)


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


def _claimable(now: datetime, worker: str) -> ColumnElement[bool]:
    """Not delivered by another live dispatcher: never claimed, its lease over, or ours."""
    return or_(
        _TABLE.c.claimed_until.is_(None),
        _TABLE.c.claimed_until < now,
        _TABLE.c.claimed_by == worker,
    )


def _of_kind(table: Any, news: bool) -> ColumnElement[bool]:
    """Announcements (a batch) and live replies are delivered apart, each in its own order."""
    return table.c.batch.is_not(None) if news else table.c.batch.is_(None)


async def claim(
    limit: int,
    *,
    worker: str,
    news: bool,
    channels: Collection[str],
    skip: Collection[str] = (),
    now: datetime,
    lease: timedelta,
    session: AsyncSession,
) -> list[Delivery]:
    """Claim for `worker` every pending message of up to `limit` chats whose next message is
    due, live replies or announcements (`news`), in the order they were written.

    A chat is taken as a whole and only through its oldest pending message, so one chat is
    delivered by one dispatcher at a time and in order; `FOR UPDATE SKIP LOCKED` (PostgreSQL)
    lets two dispatchers claim side by side without waiting on or taking each other's chats.
    Only the `channels` this process serves are claimed, leaving out the chats in `skip`
    (delivered here already). The claim lasts `lease`; past it, another dispatcher takes over
    (the crash of this one)."""
    earlier = _TABLE.alias("earlier")
    heads = (
        select(_TABLE.c.id, _TABLE.c.channel, _TABLE.c.chat_ref)
        .where(
            _TABLE.c.status == PENDING,
            _TABLE.c.channel.in_(list(channels)),
            _of_kind(_TABLE, news),
            _TABLE.c.next_attempt_at <= now,
            _claimable(now, worker),
            ~exists().where(
                earlier.c.channel == _TABLE.c.channel,
                earlier.c.chat_ref == _TABLE.c.chat_ref,
                earlier.c.status == PENDING,
                _of_kind(earlier, news),
                earlier.c.id < _TABLE.c.id,
            ),
        )
        .order_by(_TABLE.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=_TABLE)
    )
    if skip:
        heads = heads.where(_TABLE.c.chat_ref.not_in(list(skip)))
    chats = {(channel, ref) for _, channel, ref in (await session.execute(heads)).all()}
    if not chats:
        return []
    rows = await session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.status == PENDING,
            _of_kind(_TABLE, news),
            tuple_(_TABLE.c.channel, _TABLE.c.chat_ref).in_(list(chats)),
        )
        .values(claimed_by=worker, claimed_until=now + lease)
        .returning(
            _TABLE.c.id,
            _TABLE.c.channel,
            _TABLE.c.chat_ref,
            _TABLE.c.address,
            _TABLE.c.payload,
            _TABLE.c.attempts,
            _TABLE.c.parts_sent,
            _TABLE.c.next_attempt_at,
            _TABLE.c.created_at,
            _TABLE.c.batch,
        )
    )
    keys = keys_of(session)
    return sorted(
        (
            Delivery(
                id_, channel, ref, keys.unseal(address), payload, attempts, parts, due, made, batch
            )
            for id_, channel, ref, address, payload, attempts, parts, due, made, batch in rows
        ),
        key=lambda delivery: delivery.id,
    )


async def next_due(
    now: datetime, *, worker: str, channels: Collection[str], session: AsyncSession
) -> datetime | None:
    """When a message next becomes this worker's to send: the earliest retry, or the end of
    another worker's lease (if that worker died, its chats are taken over then)."""
    held_longer = and_(
        _TABLE.c.claimed_by != worker, _TABLE.c.claimed_until > _TABLE.c.next_attempt_at
    )
    ready_at = case((held_longer, _TABLE.c.claimed_until), else_=_TABLE.c.next_attempt_at)
    return await session.scalar(
        select(func.min(ready_at)).where(
            _TABLE.c.status == PENDING, _TABLE.c.channel.in_(list(channels)), ready_at > now
        )
    )


async def renew_leases(
    worker: str, chat_refs: Collection[str], until: datetime, *, session: AsyncSession
) -> None:
    """Extend `worker`'s claims on the chats it is delivering (its heartbeat)."""
    await session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.claimed_by == worker,
            _TABLE.c.status == PENDING,
            _TABLE.c.chat_ref.in_(list(chat_refs)),
        )
        .values(claimed_until=until)
    )


async def release_all(worker: str, *, session: AsyncSession) -> None:
    """Give back every claim of `worker` (it stops cleanly: nobody waits for the lease)."""
    await session.execute(
        update(_TABLE)
        .where(_TABLE.c.claimed_by == worker, _TABLE.c.status == PENDING)
        .values(claimed_by=None, claimed_until=None)
    )


async def pending_count(*, session: AsyncSession) -> int:
    """Messages waiting to be delivered; the health check reports it (and, by answering at all,
    that the database is reachable)."""
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING)
    return await session.scalar(query) or 0


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
