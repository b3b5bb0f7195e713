"""Files served by the bot's own web server, at unguessable URLs that expire."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ServedFile


async def publish(
    name: str,
    mime_type: str,
    content: bytes,
    *,
    now: datetime,
    ttl: timedelta,
    session: AsyncSession,
) -> str:
    """Store a file and return its token (32 random URL-safe characters)."""
    await session.execute(delete(ServedFile).where(ServedFile.expires_at < now))
    token = secrets.token_urlsafe(24)
    session.add(
        ServedFile(
            token=token, name=name, mime_type=mime_type, content=content, expires_at=now + ttl
        )
    )
    await session.flush()
    return token


async def fetch(token: str, *, now: datetime, session: AsyncSession) -> ServedFile | None:
    """The file, if the token exists and has not expired."""
    found = await session.get(ServedFile, token)
    return found if found is not None and found.expires_at > now else None
