"""An officer's cases: the agency's list, the case card and its actions (acknowledge, see the
evidence, ask the reporter, transfer, close); deciding is in `decide.py`."""

from __future__ import annotations

from handlers import access
from handlers.agency_picker import chosen_index, name_of, numbered, picker_steps
from handlers.casework.escalation import notify_case, restart_deadlines
from handlers.casework.states import OPEN_STATES, Action, allowed
from handlers.casework.views import officer_card
from handlers.clock import local_date_text
from handlers.flow import (
    Answer,
    Go,
    Outcome,
    Prompt,
    Retry,
    Step,
    Turn,
    text_step,
)
from handlers.messages import Choice, OutgoingFile, Reply
from handlers.officer.desk import (
    ASK,
    CARD,
    CLOSE,
    LIST,
    OUTCOME,
    TEXT_LIMIT,
    TRANSFER,
    guard_case,
    load,
    save,
    tell_reporter,
    transition,
    while_active,
)
from storage import cases
from storage.models import Agency, Case

CARD_ACTIONS = (Action.ACKNOWLEDGE, Action.ASK, Action.TRANSFER, Action.DECIDE, Action.CLOSE)
LISTED = 20


async def start_cases(turn: Turn) -> Outcome | None:
    officer = await access.current_officer(turn)
    if officer is None:
        await access.refuse(turn, None, "list", None)
        return None
    return Go(LIST)


async def open_case_card(turn: Turn, argument: str) -> Outcome | None:
    """/case N, or the button on a new-case message."""
    case_id = int(argument) if argument.strip().isdigit() else None
    if await guard_case(turn, "view", case_id) is None:
        return None
    draft = load(turn)
    draft.case_id = case_id
    save(turn, draft)
    return Go(CARD)


async def _listed(turn: Turn) -> list[Case]:
    officer = await access.current_officer(turn)
    if officer is None:
        return []
    scope = None if officer.role == access.ADMIN else [officer.agency_id]
    found = await cases.open_cases(scope, [s.value for s in OPEN_STATES], session=turn.session)
    visible = []
    for case in found:
        report = await cases.report_by_id(case.report_id, session=turn.session)
        if report is not None and access.may_handle(officer, case, report):
            visible.append(case)
    visible.sort(key=lambda case: not case.flagged)  # flagged first; due order kept within
    return visible


async def ask_list(turn: Turn) -> Prompt:
    """List the agency's open cases, the nearest deadline first."""
    t = turn.texts
    listed = await _listed(turn)
    found = listed[:LISTED]
    labels = []
    for case in found:
        due = case.ack_due if case.acknowledged_at is None else case.decide_due
        flag = "⚠️ " if case.flagged else ""
        labels.append(
            t(
                "officer.list_item",
                flag=flag,
                case=case.id,
                state=t(f"state.{case.state}"),
                due=local_date_text(due),
            )
        )
    text = t("officer.list_title") if found else t("officer.list_empty")
    if len(listed) > LISTED:
        text += "\n" + t("officer.list_more", count=len(listed) - LISTED)
    return Prompt(text, numbered(labels), back=False)


async def take_list(turn: Turn, answer: Answer) -> Outcome:
    found = (await _listed(turn))[:LISTED]
    index = chosen_index(answer, len(found))
    if index is None:
        return Retry(turn.texts("common.pick_option"))
    return await open_case_card(turn, str(found[index].id)) or Go(LIST)


async def ask_card(turn: Turn) -> Prompt:
    """Show the case card with the actions its state allows."""
    t = turn.texts
    guarded = await guard_case(turn, "view", load(turn).case_id)
    if guarded is None:
        return Prompt(t("officer.to_list_hint"), back=False)
    _, case, report = guarded
    choices = [
        Choice(a.value, t(f"officer.action_{a.value}")) for a in CARD_ACTIONS if allowed(case, a)
    ]
    if await cases.evidence_of(report.id or 0, session=turn.session):
        choices.append(Choice("evidence", t("officer.action_evidence")))
    choices.append(Choice("list", t("officer.to_list")))
    return Prompt(await officer_card(turn, case, report), tuple(choices), back=False)


async def take_card(turn: Turn, answer: Answer) -> Outcome:
    """Carry out the chosen action, after checking this officer may."""
    if answer.choice == "list":
        return Go(LIST)
    if answer.choice == "evidence":
        return await _send_evidence(turn)
    if answer.choice not in {a.value for a in CARD_ACTIONS}:
        return Retry(turn.texts("common.pick_option"))
    action = Action(answer.choice)
    guarded = await guard_case(turn, action.value, load(turn).case_id)
    if guarded is None:
        return Go(LIST)
    officer, case, report = guarded
    if not allowed(case, action):
        return Retry(turn.texts("officer.not_now"))
    if action is Action.ACKNOWLEDGE:
        if await transition(turn, officer, case, Action.ACKNOWLEDGE):
            await tell_reporter(turn, report, "status.news_acknowledged")
        return Go(CARD)
    next_step = {
        Action.ASK: ASK,
        Action.TRANSFER: f"{TRANSFER}.agency",
        Action.DECIDE: OUTCOME,
        Action.CLOSE: CLOSE,
    }
    draft = load(turn)
    draft.outcome = draft.new_post = draft.effective = draft.decision_no = None
    save(turn, draft)
    return Go(next_step[action])


async def _send_evidence(turn: Turn) -> Outcome:
    """Send the report's photos and documents to the officer, as files."""
    guarded = await guard_case(turn, "view_evidence", load(turn).case_id)
    if guarded is None:
        return Go(LIST)
    _, case, report = guarded
    files = await cases.evidence_of(report.id or 0, session=turn.session)
    for number, item in enumerate(files, start=1):
        if item.content is None:
            continue
        caption = turn.texts(
            "officer.evidence_caption", case=case.id, number=number, count=len(files)
        )
        extension = (item.mime_type or "application/octet-stream").rsplit("/", 1)[-1]
        file = OutgoingFile(
            f"evidence-{case.id}-{number}.{extension}", item.mime_type or "", item.content
        )
        turn.replies.append(Reply(caption, file=file))
    return Go(CARD)


async def relay_question(turn: Turn, text: str) -> Outcome:
    """Send the officer's question to the reporter, through the bot."""
    guarded = await guard_case(turn, "ask", load(turn).case_id)
    if guarded is None:
        return Go(LIST)
    officer, case, report = guarded
    if not await transition(turn, officer, case, Action.ASK, text=text):
        return Go(CARD)
    case.pending_question = text
    await tell_reporter(
        turn, report, "status.news_question", (("status.answer_button", "answer"),), question=text
    )
    turn.say("officer.question_sent")
    return Go(CARD)


async def on_transfer_picked(turn: Turn, agency: Agency) -> Outcome:
    """Move the case to another agency; it keeps its history."""
    guarded = await guard_case(turn, "transfer", load(turn).case_id)
    if guarded is None:
        return Go(LIST)
    officer, case, report = guarded
    if agency.id == case.agency_id:
        return Retry(turn.texts("officer.transfer_same"))
    moved = await transition(
        turn, officer, case, Action.TRANSFER, detail={"from": case.agency_id, "to": agency.id}
    )
    if not moved:
        return Go(LIST)
    case.agency_id = agency.id or case.agency_id
    restart_deadlines(turn, case, report)
    await notify_case(turn, case, report, "officer.transferred_in", copy_intake=True)
    await tell_reporter(turn, report, "status.news_transferred")
    turn.say("officer.transferred", agency=name_of(agency, turn.dialog.locale))
    return Go(LIST)


async def close_case(turn: Turn, text: str) -> Outcome:
    """Close the case with the explanation the reporter receives."""
    guarded = await guard_case(turn, "close", load(turn).case_id)
    if guarded is None:
        return Go(LIST)
    officer, case, report = guarded
    if not await transition(turn, officer, case, Action.CLOSE, text=text):
        return Go(LIST)
    await tell_reporter(turn, report, "status.news_closed", explanation=text)
    turn.say("officer.closed")
    return Go(LIST)


STEPS = tuple(
    while_active(step)
    for step in (
        Step(LIST, ask_list, take_list),
        Step(CARD, ask_card, take_card),
        text_step(ASK, "officer.q_question", TEXT_LIMIT, relay_question),
        *picker_steps(TRANSFER, "officer.q_transfer", on_transfer_picked),
        text_step(CLOSE, "officer.q_close", TEXT_LIMIT, close_case),
    )
)
