"""An officer's cases: the agency's list, the case card and its actions (acknowledge, see the
evidence, ask the reporter, name the listed official a described report is about, transfer,
close); deciding is in `decide.py`, extending and personnel measures in `tracks.py`."""

from __future__ import annotations

from handlers import access
from handlers.agency_picker import picker_steps
from handlers.casework.escalation import handling_agency, notify_case, restart_deadlines
from handlers.casework.opinion import check_public_opinion
from handlers.casework.states import OPEN_STATES, Action, allowed
from handlers.casework.views import officer_card
from handlers.clock import local_date_text, local_day
from handlers.flow import Answer, Go, Outcome, Prompt, Retry, Step, Turn, parse_id
from handlers.lists import numbered, picked, take_picked
from handlers.messages import Choice, OutgoingFile, Reply
from handlers.names import name_of, official_label
from handlers.officer.desk import (
    ASK,
    CARD,
    CLOSE,
    DRAFT,
    EXTEND,
    LINK,
    LIST,
    MEASURE,
    OUTCOME,
    TEXT_LIMIT,
    TRANSFER,
    Held,
    OfficerDraft,
    hold_case,
    not_now_values,
    officer_steps,
    tell_reporter,
    transition,
    with_case,
)
from handlers.officer.tracks import may_extend
from handlers.steps import text_step
from storage import agencies, cases, officers
from storage.models import Agency, Case, Official

CARD_ACTIONS = (
    Action.ACKNOWLEDGE,
    Action.ASK,
    Action.EXTEND,
    Action.TRANSFER,
    Action.DECIDE,
    Action.CLOSE,
    Action.LINK,
    Action.MEASURE,
)
LISTED = 20


async def start_cases(turn: Turn) -> Outcome | None:
    officer = await access.current_officer(turn)
    if officer is None:
        await access.refuse(turn, None, "list", None)
        return None
    return Go(LIST)


async def open_case_card(turn: Turn, argument: str) -> Outcome | None:
    """/case N, or the button on a new-case message: the one audited view of the card."""
    case_id = parse_id(argument)
    if await hold_case(turn, "view", case_id) is None:
        return None
    DRAFT.save(turn, _fresh(turn, case_id))
    return Go(CARD)


def _fresh(turn: Turn, case_id: int | None) -> OfficerDraft:
    """A draft for work on one case: nothing left over from another case, decision or review."""
    return OfficerDraft(case_id=case_id, listed=DRAFT.load(turn).listed)


async def _listed(turn: Turn) -> list[Case]:
    """The open cases this officer may handle, flagged first, then by the nearest deadline."""
    officer = await access.current_officer(turn)
    if officer is None:
        return []
    scope = None if access.is_admin(officer) else [officer.agency_id]
    found = await cases.open_cases(scope, [s.value for s in OPEN_STATES], session=turn.session)
    return [case for case, report in found if access.may_view(officer, case, report)]


async def ask_list(turn: Turn) -> Prompt:
    """List the agency's open cases, the nearest deadline first; the listed ones are kept so
    a pick needs no second query."""
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
    draft = DRAFT.load(turn)
    draft.listed = [case.id for case in found if case.id is not None]
    DRAFT.save(turn, draft)
    text = t("officer.list_title") if found else t("officer.list_empty")
    if len(listed) > LISTED:
        text += "\n" + t("officer.list_more", count=len(listed) - LISTED)
    return Prompt(text, numbered(labels), back=False)


async def take_list(turn: Turn, answer: Answer) -> Outcome:
    """Open the picked case; access is checked again as it opens."""
    case_id = picked(answer, DRAFT.load(turn).listed)
    if case_id is None:
        return Retry(turn.pick_hint())
    return await open_case_card(turn, str(case_id)) or Go(LIST)


async def ask_card(turn: Turn) -> Prompt:
    """Show the case card with the actions its state allows (the opening was audited)."""
    t = turn.texts
    held = await hold_case(turn, "view", DRAFT.load(turn).case_id, audit=False)
    if held is None:
        return Prompt(t("officer.to_list_hint"), back=False)
    choices = [
        Choice(a.value, t(f"officer.action_{a.value}")) for a in await card_actions(turn, held)
    ]
    if await cases.evidence_of(held.report.id or 0, session=turn.session):
        choices.append(Choice("evidence", t("officer.action_evidence")))
    choices.append(Choice("list", t("officer.to_list")))
    return Prompt(await officer_card(turn, held.case, held.report), tuple(choices), back=False)


async def card_actions(turn: Turn, held: Held) -> list[Action]:
    """The actions the card offers: those the case's state allows, for officers who handle the
    case (an agency sent a copy only reads it); naming the official only while none is named,
    a measure only once one is, an extension only while `may_extend`."""
    if not access.may_handle(held.officer, held.case, held.report):
        return []
    named = held.report.official_id is not None
    wanted = {
        Action.LINK: not named,
        Action.MEASURE: named,
        Action.EXTEND: may_extend(turn, held.case),
    }
    return [a for a in CARD_ACTIONS if allowed(held.case, a) and wanted.get(a, True)]


_ASKS_FIRST = {
    Action.ASK: ASK,
    Action.TRANSFER: TRANSFER.level,
    Action.DECIDE: OUTCOME,
    Action.CLOSE: CLOSE,
    Action.LINK: LINK,
    Action.EXTEND: EXTEND,
    Action.MEASURE: MEASURE,
}
"""Card actions that ask something before they act; each is audited when it acts."""


async def take_card(turn: Turn, answer: Answer) -> Outcome:
    """Carry out the chosen action, or ask what it needs, after checking this officer may."""
    if answer.choice == "list":
        return Go(LIST)
    if answer.choice == "evidence":
        return await send_evidence(turn)
    if answer.choice == Action.ACKNOWLEDGE.value:
        return await acknowledge(turn)
    action = next((a for a in _ASKS_FIRST if a.value == answer.choice), None)
    if action is None:
        return Retry(turn.pick_hint())
    held = await hold_case(turn, action.value, DRAFT.load(turn).case_id, audit=False)
    if held is None:
        return Go(LIST)
    if action not in await card_actions(turn, held):
        return Retry(turn.texts("officer.not_now", **not_now_values(turn, held.case)))
    DRAFT.save(turn, _fresh(turn, held.case.id))
    return Go(_ASKS_FIRST[action])


@with_case("acknowledge")
async def acknowledge(turn: Turn, held: Held) -> Outcome:
    """Acknowledge receipt; the reporter is told."""
    if await transition(turn, held, Action.ACKNOWLEDGE):
        await tell_reporter(turn, held.report, "status.news_acknowledged")
    return Go(CARD)


@with_case("view_evidence")
async def send_evidence(turn: Turn, held: Held) -> Outcome:
    """Send the report's photos and documents to the officer, as files."""
    case = held.case
    files = await cases.evidence_of(held.report.id or 0, session=turn.session)
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


@with_case("ask")
async def relay_question(turn: Turn, held: Held, text: str) -> Outcome:
    """Send the officer's question to the reporter, through the bot."""
    if not await transition(turn, held, Action.ASK, text=text):
        return Go(CARD)
    held.case.pending_question = text
    await tell_reporter(
        turn,
        held.report,
        "status.news_question",
        (("status.answer_button", "answer"),),
        question=text,
    )
    turn.say("officer.question_sent")
    return Go(CARD)


@with_case("transfer")
async def on_transfer_picked(turn: Turn, held: Held, agency: Agency) -> Outcome:
    """Move the case to another agency; it keeps its history."""
    case, report = held.case, held.report
    if agency.id == case.agency_id:
        return Retry(turn.texts("officer.transfer_same"))
    moved = await transition(
        turn, held, Action.TRANSFER, detail={"from": case.agency_id, "to": agency.id}
    )
    if not moved:
        return Go(LIST)
    case.agency_id = agency.id or case.agency_id
    restart_deadlines(turn, case, report)
    await notify_case(turn, case, report, "officer.transferred_in", copy_intake=True)
    await tell_reporter(turn, report, "status.news_transferred")
    turn.say("officer.transferred", agency=name_of(agency, turn.dialog.locale))
    return Go(LIST)


async def _linkable(turn: Turn) -> list[Official]:
    """The listed officials of the agency the report names."""
    case = await cases.case_by_id(DRAFT.load(turn).case_id or 0, session=turn.session)
    report = await cases.report_by_id(case.report_id, session=turn.session) if case else None
    if report is None:
        return []
    return await officers.officials_of(
        report.agency_id, on=local_day(turn.now), session=turn.session
    )


async def ask_link(turn: Turn) -> Prompt:
    """Ask which listed official the described person is, once verified."""
    listed = [official_label(o, turn.dialog.locale) for o in await _linkable(turn)]
    return Prompt(turn.texts("officer.q_link"), numbered(listed))


@with_case("link")
async def link_official(turn: Turn, held: Held, official: Official) -> Outcome:
    """Name the listed official a described report is about: from now on it counts towards
    public opinion about them, and they can no longer see the case."""
    if held.report.official_id is not None:
        return Go(CARD)
    if not await transition(turn, held, Action.LINK, detail={"official": official.id}):
        return Go(CARD)
    held.report.official_id = official.id
    await check_public_opinion(turn, official.id)
    turn.say("officer.linked", official=official.name)
    return await _away_from_its_head(turn, held, official)


async def _away_from_its_head(turn: Turn, held: Held, official: Official) -> Outcome:
    """A case about the head of the agency handling it goes one level up, as a new report
    about them would."""
    case, report = held.case, held.report
    agency = await agencies.agency_by_id(case.agency_id, session=turn.session)
    handler = await handling_agency(agency, official, turn) if agency else None
    if (
        handler is None
        or handler.id in (None, case.agency_id)
        or not allowed(case, Action.TRANSFER)
    ):
        return Go(CARD)
    detail = {"from": case.agency_id, "to": handler.id}
    if not await transition(turn, held, Action.TRANSFER, detail=detail):
        return Go(CARD)
    case.agency_id = handler.id or case.agency_id
    restart_deadlines(turn, case, report)
    await notify_case(turn, case, report, "officer.transferred_in", copy_intake=True)
    turn.say("officer.transferred", agency=name_of(handler, turn.dialog.locale))
    return Go(LIST)


@with_case("close")
async def close_case(turn: Turn, held: Held, text: str) -> Outcome:
    """Close the case with the explanation the reporter receives."""
    if not await transition(turn, held, Action.CLOSE, text=text):
        return Go(LIST)
    await tell_reporter(turn, held.report, "status.news_closed", explanation=text)
    turn.say("officer.closed")
    return Go(LIST)


STEPS = officer_steps(
    Step(LIST, ask_list, take_list),
    Step(CARD, ask_card, take_card),
    text_step(ASK, "officer.q_question", TEXT_LIMIT, relay_question),
    *picker_steps(TRANSFER, "officer.q_transfer", on_transfer_picked),
    text_step(CLOSE, "officer.q_close", TEXT_LIMIT, close_case),
    Step(LINK, ask_link, take_picked(_linkable, link_official)),
)
