"""What follows when a directory import retires an agency (merged, or its level abolished).

Its officers are told and lose their access at once; its open cases go to its successor, or to
intake when it has none (a district's units), and the agency that receives them is told as for
any transferred case. The cases keep their history; the retired agency keeps its figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handlers import access
from handlers.actions import chat_of, texts_for
from handlers.casework.escalation import intake_agency, notify_case, restart_deadlines
from handlers.casework.states import OPEN_STATES, Action, allowed, apply
from handlers.clock import local_day
from handlers.flow import Turn
from handlers.messages import Reply
from handlers.names import name_of
from storage import agencies, cases, officers
from storage.directory import is_current
from storage.models import Agency

ACTOR = "directory"


@dataclass(frozen=True, slots=True)
class Handover:
    cases: int
    officers: int


async def hand_over(turn: Turn, codes: Sequence[str]) -> Handover:
    """For each agency of `codes` no longer current: move its open cases and end its officers'
    access (codes of services and officials are passed over)."""
    moved = revoked = 0
    today = local_day(turn.now)
    for code in codes:
        agency = await agencies.agency_by_code(code, session=turn.session)
        if agency is None or agency.id is None:
            continue
        if is_current(agency.valid_from, agency.valid_to, today):
            continue
        target = await _receiver(turn, agency)
        moved += await _move_cases(turn, agency, target)
        revoked += await _release_officers(turn, agency, target)
    return Handover(moved, revoked)


async def _receiver(turn: Turn, agency: Agency) -> Agency | None:
    """The successor if it exists today, else intake."""
    today = local_day(turn.now)
    if agency.successor_id is not None:
        successor = await agencies.agency_by_id(agency.successor_id, session=turn.session)
        if successor is not None and is_current(successor.valid_from, successor.valid_to, today):
            return successor
    return await intake_agency(turn)


async def _move_cases(turn: Turn, agency: Agency, target: Agency | None) -> int:
    if target is None or target.id is None or agency.id is None:
        return 0
    found = await cases.open_cases([agency.id], tuple(OPEN_STATES), session=turn.session)
    for case, report in found:
        if allowed(case, Action.TRANSFER):
            event = apply(
                case,
                Action.TRANSFER,
                actor=ACTOR,
                now=turn.now,
                detail={"from": agency.id, "to": target.id, "retired": agency.code},
            )
            await cases.add(event, session=turn.session)
        case.agency_id = target.id
        restart_deadlines(turn, case, report)
        await notify_case(turn, case, report, "officer.transferred_in", copy_intake=True)
    return len(found)


async def _release_officers(turn: Turn, agency: Agency, target: Agency | None) -> int:
    if agency.id is None:
        return 0
    found = await officers.officers_of(agency.id, access.ROLES, session=turn.session)
    for officer in found:
        key = chat_of(officer, turn)
        t = await texts_for(turn, key)
        receiver = name_of(target, t.locale) if target else t("officer.retired_nobody")
        text = t("officer.agency_retired", agency=name_of(agency, t.locale), receiver=receiver)
        turn.send_to(key, Reply(text))
        await officers.revoke(officer, by=ACTOR, now=turn.now, session=turn.session)
    return len(found)
