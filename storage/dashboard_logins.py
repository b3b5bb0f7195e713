"""Sign-ins to the web dashboard: one-time links, and the sessions they open. Callers own the
transaction.

A link's token is stored only as its SHA-256 (it is 256 random bits, so no salt or slow hash is
needed): the database alone opens no session. Taking a link is one UPDATE that succeeds only for
an unused, unexpired token, so two tabs opening one link get one session between them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DashboardLogin, Officer


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    officer_id: int, *, now: datetime, valid_for: timedelta, session: AsyncSession
) -> str:
    """A new one-time link token for the officer (shown once, kept only as a hash)."""
    token = secrets.token_urlsafe(32)
    session.add(
        DashboardLogin(
            token_hash=_hash(token),
            officer_id=officer_id,
            created_at=now,
            link_expires_at=now + valid_for,
        )
    )
    await session.flush()
    return token


async def usable(token: str, *, now: datetime, session: AsyncSession) -> bool:
    """Whether a link would still open a session (looked at, not used: a link preview that
    fetches the page does not spend it)."""
    found = await session.scalar(
        select(DashboardLogin.id).where(
            DashboardLogin.token_hash == _hash(token),
            DashboardLogin.used_at.is_(None),
            DashboardLogin.link_expires_at > now,
        )
    )
    return found is not None


async def take(
    token: str, *, now: datetime, session_length: timedelta, session: AsyncSession
) -> int | None:
    """Use a link once: the id of the session it opens, or None if it is unknown, used or
    expired."""
    opened = await session.execute(
        update(DashboardLogin)
        .where(
            DashboardLogin.token_hash == _hash(token),
            DashboardLogin.used_at.is_(None),
            DashboardLogin.link_expires_at > now,
        )
        .values(used_at=now, session_expires_at=now + session_length)
        .returning(DashboardLogin.id)
    )
    return opened.scalar_one_or_none()


async def signed_in(login_id: int, *, now: datetime, session: AsyncSession) -> Officer | None:
    """The active officer of a session that is open now, else None."""
    login = await session.get(DashboardLogin, login_id)
    if (
        login is None
        or login.ended_at is not None
        or login.session_expires_at is None
        or login.session_expires_at <= now
    ):
        return None
    officer = await session.get(Officer, login.officer_id)
    return officer if officer is not None and officer.active else None


async def sign_out(login_id: int, *, now: datetime, session: AsyncSession) -> None:
    await session.execute(
        update(DashboardLogin)
        .where(DashboardLogin.id == login_id, DashboardLogin.ended_at.is_(None))
        .values(ended_at=now)
    )
