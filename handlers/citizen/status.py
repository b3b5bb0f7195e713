"""Following a report: /status CODE, the list of one's reports, adding information, answering
an officer's question, and saying whether the decision resolved the matter.

A code that does not exist and a code of someone else's report get the same neutral answer, so
codes cannot be probed. The diagram is in `status.mmd` beside this file.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from handlers.casework.escalation import notify_case, restart_deadlines
from handlers.casework.states import Action, NotAllowed, State, allowed, transition
from handlers.casework.views import timeline
from handlers.citizen.receipts import normalise_receipt
from handlers.flow import MENU, Answer, Drafts, Go, Outcome, Prompt, Retry, Step, Turn, parse_id
from handlers.lists import numbered, picked
from handlers.messages import Choice
from handlers.steps import read_text, text_step
from storage import cases
from storage.citizens import find_citizen
from storage.models import Case, Report

FLOW = "status"
LIST, CARD, ADD, ANSWER = "status.list", "status.card", "status.add", "status.answer"
_TEXT_LIMIT = 2000


class StatusDraft(BaseModel):
    """The report being followed; always one of the asker's own, checked at every step."""

    report_id: int | None = None


DRAFT = Drafts(FLOW, StatusDraft)


async def _own(turn: Turn, report_id: int | None) -> tuple[Report, Case] | None:
    """The report and case if they belong to the person asking; None otherwise."""
    key = turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    report = await cases.report_by_id(report_id, session=turn.session) if report_id else None
    if citizen is None or report is None or report.citizen_id != citizen.id:
        return None
    case = await cases.case_of_report(report.id or 0, session=turn.session)
    return (report, case) if case else None


async def show(turn: Turn, code: str) -> Outcome:
    """/status [CODE]: the report's card, or the list of one's reports without a code."""
    if not code.strip():
        return Go(LIST)
    receipt = normalise_receipt(code)
    report = await cases.report_by_receipt(receipt, session=turn.session) if receipt else None
    if report is None or await _own(turn, report.id) is None:
        turn.say("status.not_found")
        return Go(MENU)
    DRAFT.save(turn, StatusDraft(report_id=report.id))
    return Go(CARD)


async def by_case(turn: Turn, argument: str) -> tuple[Report, Case] | None:
    """A notification button names a case; it must be one of the asker's own."""
    case_id = parse_id(argument)
    case = await cases.case_by_id(case_id, session=turn.session) if case_id else None
    owned = await _own(turn, case.report_id) if case else None
    if owned is None:
        turn.say("status.not_found")
    else:
        DRAFT.save(turn, StatusDraft(report_id=owned[0].id))
    return owned


async def _mine(turn: Turn) -> list[tuple[Report, Case]]:
    key = turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    if citizen is None or citizen.id is None:
        return []
    return (await cases.reports_of(citizen.id, session=turn.session))[:20]


async def ask_list(turn: Turn) -> Prompt:
    """List the citizen's own reports, newest first."""
    t = turn.texts
    mine = await _mine(turn)
    labels = [
        t("status.list_item", receipt=r.receipt, state=t(f"state.{c.state}")) for r, c in mine
    ]
    return Prompt(
        t("status.list_title") if mine else t("status.list_empty"),
        numbered(labels),
        free_text=True,
        back=False,
    )


async def take_list(turn: Turn, answer: Answer) -> Outcome:
    """Open the chosen report (a typed code works too)."""
    if answer.text is not None:
        return await show(turn, answer.text)
    chosen = picked(answer, await _mine(turn))
    if chosen is None:
        return Retry(turn.pick_hint())
    report, _ = chosen
    DRAFT.save(turn, StatusDraft(report_id=report.id))
    return Go(CARD)


async def ask_card(turn: Turn) -> Prompt:
    """The timeline, the pending question, and what the citizen can do now."""
    t = turn.texts
    owned = await _own(turn, DRAFT.load(turn).report_id)
    if owned is None:
        return Prompt(t("status.not_found"), back=False)
    report, case = owned
    text = await timeline(t, case, report, turn)
    choices: list[Choice] = []
    if case.state == State.AWAITING_REPORTER:
        text += "\n" + t("status.pending_question", question=case.pending_question or "")
        choices.append(Choice("answer", t("status.answer_button")))
    if allowed(case, Action.ADD_INFO):
        choices.append(Choice("add", t("status.add_button")))
    if case.state == State.DECIDED:
        choices += [
            Choice("resolved", t("status.resolved_button")),
            Choice("unresolved", t("status.unresolved_button")),
        ]
    choices.append(Choice("menu", t("status.to_menu")))
    return Prompt(text, tuple(choices), back=False)


async def take_card(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice == "menu":
        return Go(MENU)
    if answer.choice == "answer":
        return Go(ANSWER)
    if answer.choice == "add":
        return Go(ADD)
    if answer.choice in ("resolved", "unresolved"):
        owned = await _own(turn, DRAFT.load(turn).report_id)
        if owned is not None:
            await settle(turn, *owned, resolved=answer.choice == "resolved")
        return Go(CARD)
    return Retry(turn.pick_hint())


async def settle(turn: Turn, report: Report, case: Case, *, resolved: bool) -> None:
    """The citizen's word on the decision: yes closes the case, no reopens it (in time)."""
    if case.state not in (State.DECIDED, State.CLOSED) or case.decided_at is None:
        turn.say("status.nothing_to_settle")
        return
    if resolved:
        if case.state != State.DECIDED:
            turn.say("status.nothing_to_settle")
            return
        await _event(turn, case, Action.CONFIRM)
        turn.say("status.thanks_resolved")
        return
    if turn.now > case.decided_at + timedelta(days=turn.rules.reopen_days):
        turn.say("status.reopen_too_late", days=turn.rules.reopen_days)
        return
    if not await _event(turn, case, Action.REOPEN):
        return
    restart_deadlines(turn, case, report)
    await notify_case(turn, case, report, "officer.reopened")
    turn.say("status.reopened")


async def _event(turn: Turn, case: Case, action: Action, text: str | None = None) -> bool:
    """The citizen's action on the case; False (and a polite line) when its state, perhaps
    changed by the agency a moment ago, no longer allows it."""
    try:
        await transition(
            case, action, session=turn.session, actor="citizen", now=turn.now, text=text
        )
    except NotAllowed:
        turn.say(
            "status.nothing_to_answer" if action is Action.ANSWER else "status.nothing_to_settle"
        )
        return False
    return True


async def ask_answer(turn: Turn) -> Prompt:
    """Ask for the answer to the officer's question."""
    owned = await _own(turn, DRAFT.load(turn).report_id)
    question = owned[1].pending_question if owned else ""
    return Prompt(
        turn.texts("status.q_answer", question=question or "", limit=_TEXT_LIMIT), free_text=True
    )


async def take_answer(turn: Turn, answer: Answer) -> Outcome:
    """Relay the answer to the agency, without saying who sent it."""
    text = read_text(answer, _TEXT_LIMIT)
    if text is None:
        return Retry(turn.texts("common.text_limit", limit=_TEXT_LIMIT))
    owned = await _own(turn, DRAFT.load(turn).report_id)
    if owned is None or owned[1].state != State.AWAITING_REPORTER:
        turn.say("status.nothing_to_answer")
        return Go(CARD)
    report, case = owned
    if await _event(turn, case, Action.ANSWER, text):
        case.pending_question = None
        await notify_case(turn, case, report, "officer.answered", answer=text)
        turn.say("status.answer_sent")
    return Go(CARD)


async def add_information(turn: Turn, text: str) -> Outcome:
    """Add the citizen's information to the case and pass it to the agency."""
    owned = await _own(turn, DRAFT.load(turn).report_id)
    if owned is None:
        return Go(MENU)
    report, case = owned
    if await _event(turn, case, Action.ADD_INFO, text):
        await notify_case(turn, case, report, "officer.info_added", text=text)
        turn.say("status.info_sent")
    return Go(CARD)


STEPS = (
    Step(LIST, ask_list, take_list),
    Step(CARD, ask_card, take_card),
    Step(ANSWER, ask_answer, take_answer),
    text_step(ADD, "status.q_add", _TEXT_LIMIT, add_information),
)
