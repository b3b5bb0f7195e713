"""Who may do what, checked on the server for every officer and admin action, in one place.

An officer acts only on the cases of their own agency; an admin (Home Affairs intake) on every
case; nobody on a case about themselves. Every refusal is written to the audit log.
"""

from __future__ import annotations

from handlers.flow import Turn
from storage import officers
from storage.models import Case, Officer, Official, Report

ADMIN, LEADER, OFFICER = "admin", "leader", "officer"
ROLES = (OFFICER, LEADER, ADMIN)


async def current_officer(turn: Turn) -> Officer | None:
    """The sender's officer row if still active: a revoked officer is nobody from then on."""
    key = turn.incoming.key
    return await officers.officer_of(key.channel, turn.incoming.user_id, session=turn.session)


async def account(turn: Turn) -> Officer | None:
    """The sender's officer row, revoked or not, so a refusal names who was refused."""
    key = turn.incoming.key
    return await officers.any_officer_of(key.channel, turn.incoming.user_id, session=turn.session)


def actor(officer: Officer | None, turn: Turn) -> str:
    if officer is not None:
        return f"officer:{officer.id}"
    return f"{turn.incoming.key.channel}-user"


def may_handle(officer: Officer, case: Case, report: Report) -> bool:
    """The single rule for access to a case."""
    if report.official_id is not None and officer.official_id == report.official_id:
        return False
    return officer.role == ADMIN or officer.agency_id == case.agency_id


def may_manage(officer: Officer, agency_id: int) -> bool:
    """Who may list and remove an agency's officers: its leaders, and admins for any agency."""
    return officer.role == ADMIN or (officer.role == LEADER and officer.agency_id == agency_id)


def may_remove(officer: Officer, target: Officer) -> bool:
    """Removal is for active officers of an agency one manages, never oneself (a leader could
    lock the agency out) nor an admin (admins are revoked on the command line)."""
    if target.id == officer.id or target.role == ADMIN or not target.active:
        return False
    return may_manage(officer, target.agency_id)


def may_bind(official: Official, agency_id: int) -> bool:
    """An invite ties its officer only to an official of the invite's own agency: bound to an
    official elsewhere, an officer would be kept from reports about the wrong person. The
    directory knows an official's home agency only."""
    return official.agency_id == agency_id


def in_private_chat(turn: Turn, officer: Officer) -> bool:
    """Case details are shown only in the officer's own chat with the bot, never in a group
    (where the official a report is about might be reading)."""
    key = turn.incoming.key
    return key.channel == officer.channel and key.chat_id == officer.chat_id


async def refuse(
    turn: Turn,
    officer: Officer | None,
    action: str,
    case_id: int | None,
    *,
    reason: str = "officer.not_allowed",
) -> None:
    """Say no politely, the same way whatever the reason, and audit it."""
    await record(turn, officer or await account(turn), action, case_id, allowed=False)
    turn.say(reason)


def may_review(officer: Officer, agency_id: int, official_id: int) -> bool:
    """The rule for reassignment reviews: the agency's officers or an admin, never the
    official under review."""
    if officer.official_id == official_id:
        return False
    return officer.role == ADMIN or officer.agency_id == agency_id


async def audit_refused_press(turn: Turn) -> None:
    """An officer (or a revoked one) pressed an old or forged button: nothing happens, and it
    is written down."""
    officer = await account(turn)
    if officer is not None:
        await officers.audit(
            actor(officer, turn),
            "stale_or_forged_button",
            allowed=False,
            now=turn.now,
            detail=(turn.incoming.choice_token or "")[:64],
            session=turn.session,
        )


async def record(
    turn: Turn, officer: Officer | None, action: str, case_id: int | None, *, allowed: bool = True
) -> None:
    """Every officer action, done or refused, leaves one audit row."""
    await officers.audit(
        actor(officer, turn),
        action,
        allowed=allowed,
        now=turn.now,
        case_id=case_id,
        session=turn.session,
    )
