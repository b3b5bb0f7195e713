"""The officer's desk, shared by every officer job: the flow's state names, its draft, the
guard that re-checks access for each action, and the ways news leaves the desk.

Every action re-checks on the server that this officer may handle this case
(`access.may_handle`); buttons carry only short tokens, never a case or an action by themselves.
The diagram is in `officer.mmd` beside this file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import wraps
from typing import Concatenate, ParamSpec

from pydantic import BaseModel

from handlers import access
from handlers.actions import chat_of, send_with_actions, texts_for
from handlers.agency_picker import PickerStates
from handlers.casework import states
from handlers.casework.states import Action, NotAllowed
from handlers.citizen.start import home_state
from handlers.clock import local_day
from handlers.flow import Answer, Drafts, Go, Outcome, Prompt, Step, Turn
from handlers.messages import Reply
from storage import cases
from storage.citizens import citizen_by_id
from storage.models import Assignment, Case, Officer, Report

FLOW = "officer"
LIST, CARD, ASK, OUTCOME = "officer.list", "officer.card", "officer.ask", "officer.outcome"
POST, EFFECTIVE, NUMBER = "officer.post", "officer.effective", "officer.number"
EXPLAIN, CONFIRM, CLOSE = "officer.explain", "officer.confirm", "officer.close"
REVIEW, REVIEW_REASON = "officer.review", "officer.review_reason"
LINK = "officer.link"
EXTEND, EXTEND_REASON = "officer.extend", "officer.extend_reason"
MEASURE = "officer.measure"
TRANSFER = PickerStates("officer.transfer", "officer.transfer_district", "officer.transfer_pick")
TEXT_LIMIT = 1000


class OfficerDraft(BaseModel):
    """The officer's work in progress: the case or review at hand, a decision being composed,
    the list last shown, and the roster being managed."""

    case_id: int | None = None
    review_id: int | None = None
    outcome: str | None = None
    new_post: str | None = None
    effective: str | None = None
    decision_no: str | None = None
    explanation: str | None = None
    listed: list[int] = []
    """The cases the list showed, in order, so a pick names one without a second query."""
    roster_agency: int | None = None
    """/officers: the agency whose officers are listed, who was listed, who is to go."""
    roster: list[int] = []
    remove_id: int | None = None
    extend_days: int | None = None
    measure: str | None = None


DRAFT = Drafts(FLOW, OfficerDraft)


@dataclass(frozen=True, slots=True)
class Held:
    """A case this officer may act on now, with its report."""

    officer: Officer
    case: Case
    report: Report


async def hold_case(
    turn: Turn, action: str, case_id: int | None, *, audit: bool = True
) -> Held | None:
    """The case if this officer may act on it, here and now; else refuse (always audited).
    `audit=False` is for showing again what was already recorded, so one act is one row."""
    officer = await access.current_officer(turn)
    case = await cases.case_by_id(case_id, session=turn.session) if case_id else None
    report = await cases.report_by_id(case.report_id, session=turn.session) if case else None
    if officer is not None and not access.in_private_chat(turn, officer):
        await access.refuse(turn, officer, action, case_id, reason="officer.private_only")
        return None
    rule = access.may_view if action in access.VIEWING else access.may_handle
    if officer is None or case is None or report is None or not rule(officer, case, report):
        await access.refuse(turn, officer, action, case_id, reason="officer.case_unavailable")
        return None
    if audit:
        await access.record(turn, officer, action, case_id)
    return Held(officer, case, report)


P = ParamSpec("P")
CaseWork = Callable[Concatenate[Turn, Held, P], Awaitable[Outcome]]


def with_case(
    action: str,
) -> Callable[[CaseWork[P]], Callable[Concatenate[Turn, P], Awaitable[Outcome]]]:
    """Run an officer's act on the draft's case only once `hold_case` allows it (audited as
    `action`); a refused act goes back to the list."""

    def guard(work: CaseWork[P]) -> Callable[Concatenate[Turn, P], Awaitable[Outcome]]:
        @wraps(work)
        async def guarded(turn: Turn, *args: P.args, **kwargs: P.kwargs) -> Outcome:
            held = await hold_case(turn, action, DRAFT.load(turn).case_id)
            if held is None:
                return Go(LIST)
            return await work(turn, held, *args, **kwargs)

        return guarded

    return guard


def _while_active(step: Step) -> Step:
    """The step, for active officers only: access ends at once, in the middle of a case too.
    An answer from an officer revoked since the question was asked is refused (audited) and
    leads home; asking again shows only that access has ended. The wrappers name the step's own
    functions (`__wrapped__`), so the diagrams follow the step rather than the guard."""

    @wraps(step.ask)
    async def ask(turn: Turn) -> Prompt:
        if await access.current_officer(turn) is None:
            return Prompt(turn.texts("officer.access_ended"), back=False)
        return await step.ask(turn)

    @wraps(step.take)
    async def take(turn: Turn, answer: Answer) -> Outcome:
        if await access.current_officer(turn) is None:
            await access.refuse(turn, None, step.name, DRAFT.load(turn).case_id)
            return Go(await home_state(turn))
        return await step.take(turn, answer)

    return replace(step, ask=ask, take=take)


def officer_steps(*steps: Step) -> tuple[Step, ...]:
    """A table of officer steps, each for active officers only."""
    return tuple(_while_active(step) for step in steps)


async def transition(
    turn: Turn,
    held: Held,
    action: Action,
    text: str | None = None,
    detail: dict[str, object] | None = None,
) -> bool:
    """Apply the action by the table and record it; False (and a polite line) when the case's
    state does not allow it, so the caller stops there."""
    try:
        await states.transition(
            held.case,
            action,
            session=turn.session,
            actor="officer",
            now=turn.now,
            officer_id=held.officer.id,
            text=text,
            detail=detail,
        )
    except NotAllowed:
        turn.say("officer.not_now", **not_now_values(turn, held.case))
        return False
    return True


def not_now_values(turn: Turn, case: Case) -> dict[str, object]:
    """What `officer.not_now` tells: the case and the state it is in now (another officer may
    have moved it a moment ago)."""
    return {"case": case.id, "state": turn.texts(f"state.{case.state}")}


async def tell_reporter(
    turn: Turn,
    report: Report,
    key: str,
    buttons: tuple[tuple[str, str], ...] = (),
    *,
    translated: dict[str, str] | None = None,
    **values: object,
) -> None:
    """Send news to the reporter through the bot; the reporter's identity never leaves it.

    `translated` maps placeholders to catalog keys, filled in the reporter's language.
    """
    if report.citizen_id is None:
        return
    citizen = await citizen_by_id(report.citizen_id, session=turn.session)
    if citizen is None:
        return
    target = chat_of(citizen, turn)
    t = await texts_for(turn, target)
    values |= {name: t(catalog_key) for name, catalog_key in (translated or {}).items()}
    text = t(key, receipt=report.receipt, **values)
    case = await cases.case_of_report(report.id or 0, session=turn.session)
    if buttons and case is not None:
        await send_with_actions(
            turn, target, text, [(t(label), name, str(case.id)) for label, name in buttons]
        )
    else:
        turn.send_to(target, Reply(text))


async def write_assignment(
    turn: Turn,
    draft: OfficerDraft,
    official_id: int,
    *,
    case_id: int | None = None,
    review_id: int | None = None,
) -> None:
    turn.session.add(
        Assignment(
            official_id=official_id,
            measure=draft.measure or "reassign",
            new_post=draft.new_post or "",
            effective_on=date.fromisoformat(draft.effective)
            if draft.effective
            else local_day(turn.now),
            decision_number=draft.decision_no or "",
            case_id=case_id,
            review_id=review_id,
            recorded_at=turn.now,
        )
    )
    await turn.session.flush()
