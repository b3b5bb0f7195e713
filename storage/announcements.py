"""Announcements to citizens who opted in, and how their delivery went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.identity import keys_of
from storage.models import Announcement, Citizen, OutboxMessage
from storage.outbox import FAILED, PENDING, SENT, UNREACHABLE

_CHUNK = 5000


def batch_of(announcement_id: int) -> str:
    return f"announcement:{announcement_id}"


async def queue_announcement(
    text: str,
    payload: dict[str, object],
    *,
    officer_id: int | None,
    now: datetime,
    session: AsyncSession,
) -> Announcement:
    """Put one outbox message per reachable, opted-in citizen, all in the same batch (a
    citizen's private chat is their account, so its hash and sealed id are reused as they are)."""
    recipients = (
        await session.execute(
            select(Citizen.channel, Citizen.account_ref, Citizen.address).where(
                Citizen.news.is_(True), Citizen.unreachable.is_(False)
            )
        )
    ).all()
    announcement = Announcement(
        text=text, created_by=officer_id, recipients=len(recipients), created_at=now
    )
    session.add(announcement)
    await session.flush()
    batch = batch_of(announcement.id or 0)
    rows = [
        {
            "channel": channel,
            "chat_ref": ref,
            "address": address,
            "payload": payload,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "batch": batch,
        }
        for channel, ref, address in recipients
    ]
    for first in range(0, len(rows), _CHUNK):
        await session.execute(insert(OutboxMessage), rows[first : first + _CHUNK])
    return announcement


@dataclass(frozen=True, slots=True)
class AnnouncementStatus:
    announcement: Announcement
    delivered: int
    pending: int
    failed: int


async def deliveries(limit: int, *, session: AsyncSession) -> list[AnnouncementStatus]:
    """The latest announcements with their delivered, pending and failed counts."""
    found = (
        await session.scalars(select(Announcement).order_by(Announcement.id.desc()).limit(limit))
    ).all()
    result = []
    for announcement in found:
        counts = dict(
            (
                await session.execute(
                    select(OutboxMessage.status, func.count())
                    .where(OutboxMessage.batch == batch_of(announcement.id or 0))
                    .group_by(OutboxMessage.status)
                )
            ).all()
        )
        result.append(
            AnnouncementStatus(
                announcement,
                counts.get(SENT, 0),
                counts.get(PENDING, 0),
                counts.get(FAILED, 0) + counts.get(UNREACHABLE, 0),
            )
        )
    return result


async def mark_unreachable(channel: str, chat_id: str, *, session: AsyncSession) -> None:
    """The platform says this person blocked the bot: stop sending them news."""
    await session.execute(
        update(Citizen)
        .where(
            Citizen.channel == channel,
            Citizen.account_ref == keys_of(session).ref(channel, chat_id),
        )
        .values(unreachable=True)
    )
