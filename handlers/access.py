"""Who may do what, checked on the server for every officer and admin action, in one place.

An officer acts only on the cases of their own agency; an admin (Home Affairs intake) on every
case; nobody on a case about themselves. Every refusal, by anyone, is written to the audit log,
up to a per-person limit so a flood cannot fill it.
"""

from __future__ import annotations

from datetime import timedelta

from handlers.flow import Turn
from handlers.messages import ChatKind
from storage import officers
from storage.identity import keys_of
from storage.models import Case, Officer, Official, Report

ADMIN, LEADER, OFFICER = "admin", "leader", "officer"
ROLES = (OFFICER, LEADER, ADMIN)
LEADERS = (LEADER, ADMIN)
"""Who leads: told of an agency's cases; registers its group chat, manages its officers."""
REFUSAL_WINDOW = timedelta(hours=1)
REFUSALS_AUDITED = 20
"""Refusals written per person and window: a flood of forged presses cannot fill the log."""
REFUSALS_SAID_IN_GROUP = 3
"""Refusals said per person and window in a group, so a flood there cannot make the bot spam it."""


async def current_officer(turn: Turn) -> Officer | None:
    """The sender's officer row if still active: a revoked officer is nobody from then on."""
    key = turn.incoming.key
    return await officers.officer_of(key.channel, turn.incoming.user_id, session=turn.session)


async def account(turn: Turn) -> Officer | None:
    """The sender's officer row, revoked or not, so a refusal names who was refused."""
    key = turn.incoming.key
    return await officers.any_officer_of(key.channel, turn.incoming.user_id, session=turn.session)


def actor(officer: Officer | None, turn: Turn) -> str:
    """Who the audit log names: an officer by row, anyone else by a keyed hash of their account,
    so refusals can be counted per person while the log alone identifies nobody."""
    if officer is not None:
        return officer_actor(officer)
    channel = turn.incoming.key.channel
    return f"{channel}-user:{keys_of(turn.session).audit_name(channel, turn.incoming.user_id)}"


def officer_actor(officer: Officer) -> str:
    """How the audit log names an officer, in chat and on the web alike."""
    return f"officer:{officer.id}"


def is_admin(officer: Officer) -> bool:
    """Home Affairs administrators: every agency's cases and figures, invites, announcements."""
    return officer.role == ADMIN


def leads(officer: Officer) -> bool:
    return officer.role in LEADERS


def may_handle(officer: Officer, case: Case, report: Report) -> bool:
    """The single rule for access to a case."""
    if report.official_id is not None and officer.official_id == report.official_id:
        return False
    return is_admin(officer) or officer.agency_id == case.agency_id


VIEWING = frozenset({"view", "view_evidence"})
"""What an agency sent a copy of a case may do with it: read the card and the evidence."""


def may_view(officer: Officer, case: Case, report: Report) -> bool:
    """The rule for reading a case: who may handle it, and the agency it was copied to (never
    the official it is about)."""
    if may_handle(officer, case, report):
        return True
    about_them = report.official_id is not None and officer.official_id == report.official_id
    return not about_them and case.copied_to is not None and officer.agency_id == case.copied_to


def may_manage(officer: Officer, agency_id: int) -> bool:
    """Who may list and remove an agency's officers: its leaders, and admins for any agency."""
    return is_admin(officer) or (officer.role == LEADER and officer.agency_id == agency_id)


def may_remove(officer: Officer, target: Officer) -> bool:
    """Removal is for active officers of an agency one manages, never oneself (a leader could
    lock the agency out) nor an admin (admins are revoked on the command line)."""
    if target.id == officer.id or is_admin(target) or not target.active:
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
    return officers.is_chat_of(officer, key.channel, key.chat_id, session=turn.session)


async def refuse(
    turn: Turn,
    officer: Officer | None,
    action: str,
    case_id: int | None,
    *,
    reason: str = "officer.not_allowed",
    detail: str | None = None,
) -> None:
    """Say no politely, the same way whatever the reason, and audit it (within the limits)."""
    who = officer or await account(turn)
    earlier = await audit_refusal(turn, who, action, case_id=case_id, detail=detail)
    if turn.incoming.chat_kind is ChatKind.PRIVATE or earlier < REFUSALS_SAID_IN_GROUP:
        turn.say(reason)


async def audit_refusal(
    turn: Turn,
    officer: Officer | None,
    action: str,
    *,
    case_id: int | None = None,
    detail: str | None = None,
) -> int:
    """Write a refusal down unless this person had `REFUSALS_AUDITED` in the window already;
    returns how many they had, so callers can fall silent too."""
    who = actor(officer, turn)
    since = turn.now - REFUSAL_WINDOW
    earlier = await officers.refusals_since(who, since, session=turn.session)
    if earlier < REFUSALS_AUDITED:
        await officers.audit(
            who,
            action,
            allowed=False,
            now=turn.now,
            case_id=case_id,
            detail=detail,
            session=turn.session,
        )
    return earlier


def may_review(officer: Officer, agency_id: int, official_id: int) -> bool:
    """The rule for reassignment reviews: the agency's officers or an admin, never the
    official under review."""
    if officer.official_id == official_id:
        return False
    return is_admin(officer) or officer.agency_id == agency_id


async def audit_refused_press(turn: Turn, action: str = "stale_or_forged_button") -> None:
    """Someone (an officer, a revoked one, or a citizen) pressed an old, forged or misplaced
    button: nothing happens, and it is written down."""
    detail = (turn.incoming.choice_token or "")[:64]
    await audit_refusal(turn, await account(turn), action, detail=detail)


async def record(turn: Turn, officer: Officer, action: str, case_id: int | None) -> None:
    """Every officer action done leaves one audit row (refusals go through `refuse`)."""
    await officers.audit(
        actor(officer, turn),
        action,
        allowed=True,
        now=turn.now,
        case_id=case_id,
        session=turn.session,
    )
