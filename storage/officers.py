"""Officers, invites, agency group chats, assignment history, audit and sent alerts."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert
from storage.identity import keys_of
from storage.models import Agency, AgencyChat, Alert, AuditEntry, Invite, Officer, Official


async def officer_of(channel: str, user_id: str, *, session: AsyncSession) -> Officer | None:
    officer = await any_officer_of(channel, user_id, session=session)
    return officer if officer is not None and officer.active else None


async def any_officer_of(channel: str, user_id: str, *, session: AsyncSession) -> Officer | None:
    """The account's officer row, active or not, found by the keyed hash of the account."""
    ref = keys_of(session).ref(channel, user_id)
    return await session.scalar(
        select(Officer).where(Officer.channel == channel, Officer.account_ref == ref)
    )


def bind_officer_chat(officer: Officer, chat_id: str, *, session: AsyncSession) -> None:
    """The private chat where the officer's cards go, hashed to recognise it and sealed to
    write to it."""
    keys = keys_of(session)
    officer.chat_ref, officer.address = keys.ref(officer.channel, chat_id), keys.seal(chat_id)


def new_officer(
    channel: str, user_id: str, chat_id: str, *, session: AsyncSession, **fields: object
) -> Officer:
    """An officer row for a messenger account, added to the session."""
    officer = Officer(
        channel=channel,
        account_ref=keys_of(session).ref(channel, user_id),
        chat_ref="",
        address="",
        **fields,  # type: ignore[arg-type]
    )
    bind_officer_chat(officer, chat_id, session=session)
    session.add(officer)
    return officer


def is_chat_of(officer: Officer, channel: str, chat_id: str, *, session: AsyncSession) -> bool:
    """Whether a chat is the officer's own private chat with the bot."""
    return channel == officer.channel and officer.chat_ref == keys_of(session).ref(
        channel, chat_id
    )


async def officers_of(
    agency_id: int, roles: Sequence[str], *, session: AsyncSession
) -> list[Officer]:
    rows = await session.scalars(
        select(Officer)
        .where(Officer.agency_id == agency_id, Officer.role.in_(roles), Officer.active.is_(True))
        .order_by(Officer.id)
    )
    return list(rows.all())


class RosterEntry(NamedTuple):
    """An officer with what is shown about them: never their messenger ids."""

    officer: Officer
    agency: Agency
    official: Official | None


async def roster(
    agency_id: int | None, *, active_only: bool = False, session: AsyncSession
) -> list[RosterEntry]:
    """The officers of one agency (of every agency when None), by agency then joining order."""
    query = (
        select(Officer, Agency, Official)
        .join(Agency, Agency.id == Officer.agency_id)
        .outerjoin(Official, Official.id == Officer.official_id)
        .order_by(Agency.code, Officer.id)
    )
    if agency_id is not None:
        query = query.where(Officer.agency_id == agency_id)
    if active_only:
        query = query.where(Officer.active.is_(True))
    rows = await session.execute(query)
    return [RosterEntry(*row) for row in rows.all()]


async def officer_by_id(officer_id: int, *, session: AsyncSession) -> Officer | None:
    return await session.get(Officer, officer_id)


async def revoke(officer: Officer, *, by: str, now: datetime, session: AsyncSession) -> None:
    """End an officer's access at once (every check reads `active`); the row stays for the
    history of what they did, and a new invite can bring them back."""
    officer.active = False
    await audit(
        by, "revoke", allowed=True, now=now, detail=f"officer:{officer.id}", session=session
    )


async def agency_chats(agency_id: int, *, session: AsyncSession) -> list[AgencyChat]:
    rows = await session.scalars(select(AgencyChat).where(AgencyChat.agency_id == agency_id))
    return list(rows.all())


async def register_agency_chat(
    channel: str, chat_id: str, agency_id: int, now: datetime, *, session: AsyncSession
) -> None:
    """A group chat that receives the agency's one-line notices (registered once)."""
    keys = keys_of(session)
    ref = keys.ref(channel, chat_id)
    if await session.get(AgencyChat, (channel, ref)) is None:
        session.add(
            AgencyChat(
                channel=channel,
                chat_ref=ref,
                address=keys.seal(chat_id),
                agency_id=agency_id,
                registered_at=now,
            )
        )


async def invite_by_code(code: str, *, session: AsyncSession) -> Invite | None:
    return await session.get(Invite, code)


async def official_by_id(official_id: int, *, session: AsyncSession) -> Official | None:
    return await session.get(Official, official_id)


async def official_by_code(code: str, *, session: AsyncSession) -> Official | None:
    return await session.scalar(select(Official).where(Official.code == code))


async def officials_of(agency_id: int, *, session: AsyncSession) -> list[Official]:
    rows = await session.scalars(
        select(Official).where(Official.agency_id == agency_id).order_by(Official.id)
    )
    return list(rows.all())


async def audit(
    actor: str,
    action: str,
    *,
    allowed: bool,
    now: datetime,
    case_id: int | None = None,
    detail: str | None = None,
    session: AsyncSession,
) -> None:
    session.add(
        AuditEntry(
            at=now, actor=actor, action=action, case_id=case_id, allowed=allowed, detail=detail
        )
    )
    await session.flush()


async def refusals_since(actor: str, since: datetime, *, session: AsyncSession) -> int:
    """How many refusals the audit log holds for `actor` since `since`: the flood limit."""
    count = await session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.actor == actor, AuditEntry.allowed.is_(False), AuditEntry.at >= since)
    )
    return count or 0


_SCHEDULER_LOCK = 0x66656564  # "feed"


async def take_scheduler_lock(*, session: AsyncSession) -> bool:
    """One scheduler round at a time across processes: a transaction-scoped advisory lock on
    PostgreSQL (SQLite's BEGIN IMMEDIATE already lets one writer in)."""
    if session.bind.dialect.name != "postgresql":
        return True
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(_SCHEDULER_LOCK))))


async def record_alert(subject: str, kind: str, now: datetime, *, session: AsyncSession) -> bool:
    """Note that an alert went out; False if it had been sent before (never send twice).
    One statement: the row goes in unless it is there already."""
    statement = upsert(session.bind.dialect.name, Alert.__table__).on_conflict_do_nothing()
    added = await session.execute(statement, {"subject": subject, "kind": kind, "sent_at": now})
    return bool(added.rowcount)  # type: ignore[attr-defined]


async def create_invite(
    agency_id: int,
    role: str,
    *,
    official_id: int | None,
    now: datetime,
    valid_days: int,
    session: AsyncSession,
) -> Invite:
    """A single-use invite code (10 random hex characters) valid for `valid_days`."""
    invite = Invite(
        code=secrets.token_hex(5).upper(),
        agency_id=agency_id,
        role=role,
        official_id=official_id,
        created_at=now,
        expires_at=now + timedelta(days=valid_days),
    )
    session.add(invite)
    await session.flush()
    return invite
