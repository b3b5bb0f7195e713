"""A leader's officers in chat: /officers lists the active officers of the leader's agency and
removes one after a confirmation; an admin may do it for any agency (/officers AGENCY).

Nobody removes themselves or an admin (admins are revoked on the command line), and every
removal is checked again on the server when confirmed. The states belong to the officer
conversation; the diagram is in `handlers/officer/officer.mmd`.
"""

from __future__ import annotations

from handlers import access
from handlers.clock import local_date_text
from handlers.flow import Answer, Go, Outcome, Prompt, Retry, Step, Turn
from handlers.lists import numbered, picked
from handlers.messages import Choice
from handlers.names import name_of
from handlers.officer.desk import DRAFT, LIST, OfficerDraft, officer_steps
from handlers.steps import confirm_step
from handlers.textmatch import clip
from storage import agencies, officers
from storage.officers import RosterEntry

ROSTER, REMOVE = "officer.roster", "officer.remove"


async def start(turn: Turn, argument: str) -> Outcome | None:
    """/officers [AGENCY]: the agency's officers (a leader's own agency; any, for an admin)."""
    officer = await access.current_officer(turn)
    if officer is None or not access.leads(officer):
        await access.refuse(turn, officer, "officers", None)
        return None
    if not access.in_private_chat(turn, officer):
        await access.refuse(turn, officer, "officers", None, reason="officer.private_only")
        return None
    code = argument.strip()
    agency_id = officer.agency_id
    if code:
        agency = await agencies.agency_by_code(code, session=turn.session)
        if agency is None or agency.id is None:
            turn.say("summary.unknown_agency", code=clip(code, 40))
            return None
        agency_id = agency.id
    if not access.may_manage(officer, agency_id):
        await access.refuse(turn, officer, "officers", None)
        return None
    await access.record(turn, officer, "officers", None)
    DRAFT.save(turn, OfficerDraft(roster_agency=agency_id))
    return Go(ROSTER)


async def _active(turn: Turn) -> list[RosterEntry]:
    agency_id = DRAFT.load(turn).roster_agency or 0
    return await officers.roster(agency_id, active_only=True, session=turn.session)


def _describe(turn: Turn, entry: RosterEntry) -> str:
    officer, _, official = entry
    return turn.texts(
        "officer.roster_item",
        id=officer.id,
        role=turn.texts(f"role.{officer.role}"),
        official=official.name if official else turn.texts("officer.roster_unbound"),
        joined=local_date_text(officer.joined_at),
    )


async def ask_roster(turn: Turn) -> Prompt:
    """List the agency's active officers, to pick one to remove."""
    t, draft = turn.texts, DRAFT.load(turn)
    entries = await _active(turn)
    draft.roster = [entry.officer.id or 0 for entry in entries]
    DRAFT.save(turn, draft)
    agency = await agencies.agency_by_id(draft.roster_agency or 0, session=turn.session)
    title = t(
        "officer.roster_title",
        agency=name_of(agency, turn.dialog.locale) if agency else "?",
        count=len(entries),
    )
    labels = [_describe(turn, entry) for entry in entries]
    done = Choice("done", t("officer.roster_done"))
    return Prompt(title, (*numbered(labels), done), back=False)


async def take_roster(turn: Turn, answer: Answer) -> Outcome:
    """Keep the officer picked for removal, if this leader may remove them."""
    if answer.choice == "done":
        return Go(LIST)
    draft = DRAFT.load(turn)
    target_id = picked(answer, draft.roster)
    if target_id is None:
        return Retry(turn.pick_hint())
    officer = await access.current_officer(turn)
    target = await officers.officer_by_id(target_id, session=turn.session)
    if officer is None or target is None or not access.may_remove(officer, target):
        return Retry(turn.texts("officer.roster_cannot_remove"))
    draft.remove_id = target.id
    DRAFT.save(turn, draft)
    return Go(REMOVE)


async def removal_question(turn: Turn) -> str:
    """Ask for a confirmation, saying what removal means."""
    wanted = DRAFT.load(turn).remove_id
    entry = next((e for e in await _active(turn) if e.officer.id == wanted), None)
    described = _describe(turn, entry) if entry else "?"
    return turn.texts("officer.remove_confirm", officer=described)


async def back_to_roster(_: Turn) -> Outcome:
    return Go(ROSTER)


async def remove(turn: Turn) -> Outcome:
    """Revoke at once, after checking again who asks and whom."""
    officer = await access.current_officer(turn)
    target = await officers.officer_by_id(DRAFT.load(turn).remove_id or 0, session=turn.session)
    if officer is None or target is None or not access.may_remove(officer, target):
        await access.refuse(turn, officer, "revoke", None)
        return Go(ROSTER)
    await officers.revoke(
        target, by=access.actor(officer, turn), now=turn.now, session=turn.session
    )
    turn.say("officer.removed", id=target.id)
    return Go(ROSTER)


STEPS = officer_steps(
    Step(ROSTER, ask_roster, take_roster),
    confirm_step(REMOVE, "officer.remove", removal_question, remove, back_to_roster, back=False),
)
