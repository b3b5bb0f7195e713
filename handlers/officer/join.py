"""Becoming an officer and the admin's invites: /join CODE, /invite, /register in a group."""

from __future__ import annotations

from handlers import access
from handlers.clock import local_day
from handlers.flow import Go, Outcome, Turn
from handlers.links import invite_link
from handlers.names import name_of
from handlers.officer.desk import LIST
from handlers.textmatch import clip
from storage import agencies, officers
from storage.directory import is_current
from storage.models import Agency, Official


async def is_officer(turn: Turn) -> bool:
    return await access.current_officer(turn) is not None


async def join(turn: Turn, code: str) -> Outcome | None:
    """Redeem an invite: the sender becomes an officer of the invite's agency."""
    invite = await officers.invite_by_code(code.strip().upper(), session=turn.session)
    if invite is None or invite.used_at is not None or invite.expires_at < turn.now:
        turn.say("officer.invite_invalid")
        return None
    if await _gone(turn, await agencies.agency_by_id(invite.agency_id, session=turn.session)):
        return None
    key = turn.incoming.key
    officer = await officers.any_officer_of(
        key.channel, turn.incoming.user_id, session=turn.session
    )
    if officer is None:
        officer = officers.new_officer(
            key.channel,
            turn.incoming.user_id,
            key.chat_id,
            agency_id=invite.agency_id,
            role=invite.role,
            joined_at=turn.now,
            session=turn.session,
        )
    # A new invite moves or promotes the same person: one row per account, as stored.
    officer.agency_id, officer.role, officer.official_id = (
        invite.agency_id,
        invite.role,
        invite.official_id,
    )
    officers.bind_officer_chat(officer, key.chat_id, session=turn.session)
    officer.joined_at, officer.active = turn.now, True
    await turn.session.flush()
    invite.used_at, invite.used_by = turn.now, officer.id
    agency = await agencies.agency_by_id(invite.agency_id, session=turn.session)
    turn.say(
        "officer.joined",
        agency=name_of(agency, turn.dialog.locale) if agency else "?",
        role=turn.texts(f"role.{invite.role}"),
    )
    return Go(LIST)


async def register_group(turn: Turn) -> Outcome | None:
    """A leader sends /register in a group chat (the only room `handlers/rooms.py` lets it run
    in): the group then receives one-line notices of the agency's cases."""
    officer = await access.current_officer(turn)
    if officer is None or not access.leads(officer):
        await access.refuse(turn, officer, "register_group", None)
        return None
    key = turn.incoming.key
    await officers.register_agency_chat(
        key.channel, key.chat_id, officer.agency_id, turn.now, session=turn.session
    )
    turn.say("officer.group_registered")
    return None


async def invite_in_chat(turn: Turn, arguments: str) -> Outcome | None:
    """/invite AGENCY [officer|leader|admin] [OFFICIAL]: admins create invites in chat too."""
    officer = await access.current_officer(turn)
    if officer is None or not access.is_admin(officer):
        await access.refuse(turn, officer, "invite", None)
        return None
    parts = arguments.split()
    role = parts[1].lower() if len(parts) > 1 else access.OFFICER
    agency = await agencies.agency_by_code(parts[0], session=turn.session) if parts else None
    if agency is None or agency.id is None or role not in access.ROLES or len(parts) > 3:
        turn.say("officer.invite_usage")
        return None
    if await _gone(turn, agency):
        return None
    official = await _invited_official(turn, parts[2], agency) if len(parts) > 2 else None
    if len(parts) > 2 and official is None:
        return None
    invite = await officers.create_invite(
        agency.id,
        role,
        official_id=official.id if official else None,
        now=turn.now,
        valid_days=turn.rules.invite_days,
        session=turn.session,
    )
    turn.say(
        "officer.invite_created",
        code=invite.code,
        link=invite_link(turn.rules.bot_username, invite.code),
        agency=name_of(agency, turn.dialog.locale),
        days=turn.rules.invite_days,
    )
    return None


async def _gone(turn: Turn, agency: Agency | None) -> bool:
    """An agency the directory has retired takes no new officers; say so."""
    if agency is None or is_current(agency.valid_from, agency.valid_to, local_day(turn.now)):
        return False
    turn.say("officer.agency_gone", agency=name_of(agency, turn.dialog.locale))
    return True


async def _invited_official(turn: Turn, code: str, agency: Agency) -> Official | None:
    """The official an invite binds, if known and of the invite's agency; else say why."""
    official = await officers.official_by_code(code, session=turn.session)
    if official is None:
        turn.say("cli.unknown_official", code=clip(code, 40))
    elif not access.may_bind(official, agency.id or 0):
        agency_name = name_of(agency, turn.dialog.locale)
        turn.say("officer.official_elsewhere", code=official.code, agency=agency_name)
        return None
    return official
