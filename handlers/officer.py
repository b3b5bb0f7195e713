"""What officers do in chat: join, list their agency's cases, and work a case to a decision.

Every action re-checks on the server that this officer may handle this case
(`access.may_handle`); buttons carry only short tokens, never a case or an action by themselves.
The diagram is in `officer.mmd` beside this file.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from pydantic import Field

from handlers import access
from handlers.actions import chat_of, send_with_actions, texts_for
from handlers.agency_picker import PickerDraft, chosen_index, name_of, numbered, picker_steps
from handlers.case_views import officer_card
from handlers.casework import OPEN_STATES, Action, NotAllowed, allowed, apply
from handlers.clock import LOCAL_ZONE, local_date_text
from handlers.dates import day_text, parse_day
from handlers.escalation import LEADERS, notify_case, recipients, restart_deadlines
from handlers.flow import (
    Answer,
    Go,
    Outcome,
    Prompt,
    Retry,
    Step,
    Turn,
    load_draft,
    save_draft,
    text_step,
)
from handlers.messages import Choice, OutgoingFile, Reply
from handlers.start import home_state
from storage import agencies, cases, officers
from storage.citizens import citizen_by_id
from storage.models import Agency, Assignment, Case, Officer, Official, Report

FLOW = "officer"
LIST, CARD, ASK, OUTCOME = "officer.list", "officer.card", "officer.ask", "officer.outcome"
POST, EFFECTIVE, NUMBER = "officer.post", "officer.effective", "officer.number"
EXPLAIN, CONFIRM, CLOSE = "officer.explain", "officer.confirm", "officer.close"
REVIEW, REVIEW_REASON = "officer.review", "officer.review_reason"
TRANSFER = "transfer"
OUTCOMES = ("reassign", "discipline", "warning", "unfounded", "referred")
CARD_ACTIONS = (Action.ACKNOWLEDGE, Action.ASK, Action.TRANSFER, Action.DECIDE, Action.CLOSE)
_TEXT_LIMIT = 1000
LISTED = 20


class OfficerDraft(PickerDraft):
    case_id: int | None = None
    review_id: int | None = None
    outcome: str | None = None
    new_post: str | None = None
    effective: str | None = None
    decision_no: str | None = None
    roster_agency: int | None = None
    """/officers: the agency whose officers are listed, who was listed, who is to go."""
    roster: list[int] = Field(default_factory=list)
    remove_id: int | None = None


def load(turn: Turn) -> OfficerDraft:
    return load_draft(turn, FLOW, OfficerDraft)


def save(turn: Turn, draft: OfficerDraft) -> None:
    save_draft(turn, FLOW, draft)


# ------------------------------------------------------------------ access


async def _guarded(
    turn: Turn, action: str, case_id: int | None
) -> tuple[Officer, Case, Report] | None:
    """The officer, case and report if this officer may act on the case; else refuse (audited)."""
    officer = await access.current_officer(turn)
    case = await cases.case_by_id(case_id, session=turn.session) if case_id else None
    report = await cases.report_by_id(case.report_id, session=turn.session) if case else None
    if officer is not None and not access.in_private_chat(turn, officer):
        await access.refuse(turn, officer, action, case_id, reason="officer.private_only")
        return None
    if (
        officer is None
        or case is None
        or report is None
        or not access.may_handle(officer, case, report)
    ):
        await access.refuse(turn, officer, action, case_id, reason="officer.case_unavailable")
        return None
    await access.record(turn, officer, action, case_id)
    return officer, case, report


def while_active(step: Step) -> Step:
    """The step, for active officers only: access ends at once, in the middle of a case too.
    An answer from an officer revoked since the question was asked is refused (audited) and
    leads home; asking again shows only that access has ended."""

    async def ask(turn: Turn) -> Prompt:
        if await access.current_officer(turn) is None:
            return Prompt(turn.texts("officer.access_ended"), back=False)
        return await step.ask(turn)

    async def take(turn: Turn, answer: Answer) -> Outcome:
        if await access.current_officer(turn) is None:
            await access.refuse(turn, None, step.name, load(turn).case_id)
            return Go(await home_state(turn))
        return await step.take(turn, answer)

    return replace(step, ask=ask, take=take)


# ------------------------------------------------------------------ commands


async def is_officer(turn: Turn) -> bool:
    return await access.current_officer(turn) is not None


async def join(turn: Turn, code: str) -> Outcome | None:
    """Redeem an invite: the sender becomes an officer of the invite's agency."""
    invite = await officers.invite_by_code(code.strip().upper(), session=turn.session)
    if invite is None or invite.used_at is not None or invite.expires_at < turn.now:
        turn.say("officer.invite_invalid")
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


async def start_cases(turn: Turn) -> Outcome | None:
    officer = await access.current_officer(turn)
    if officer is None:
        await access.refuse(turn, None, "list", None)
        return None
    return Go(LIST)


async def open_case_card(turn: Turn, argument: str) -> Outcome | None:
    """/case N, or the button on a new-case message."""
    case_id = int(argument) if argument.strip().isdigit() else None
    if await _guarded(turn, "view", case_id) is None:
        return None
    draft = load(turn)
    draft.case_id = case_id
    save(turn, draft)
    return Go(CARD)


async def register_group(turn: Turn) -> Outcome | None:
    """A leader sends /register in a group chat (the only room `handlers/rooms.py` lets it run
    in): the group then receives one-line notices of the agency's cases."""
    officer = await access.current_officer(turn)
    if officer is None or officer.role not in LEADERS:
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
    if officer is None or officer.role != access.ADMIN:
        await access.refuse(turn, officer, "invite", None)
        return None
    parts = arguments.split()
    role = parts[1].lower() if len(parts) > 1 else access.OFFICER
    agency = await agencies.agency_by_code(parts[0], session=turn.session) if parts else None
    if agency is None or agency.id is None or role not in access.ROLES or len(parts) > 3:
        turn.say("officer.invite_usage")
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
        link=invite_link(turn, invite.code),
        agency=name_of(agency, turn.dialog.locale),
        days=turn.rules.invite_days,
    )
    return None


async def _invited_official(turn: Turn, code: str, agency: Agency) -> Official | None:
    """The official an invite binds, if known and of the invite's agency; else say why."""
    official = await officers.official_by_code(code, session=turn.session)
    if official is None:
        turn.say("cli.unknown_official", code=code)
    elif not access.may_bind(official, agency.id or 0):
        agency_name = name_of(agency, turn.dialog.locale)
        turn.say("officer.official_elsewhere", code=official.code, agency=agency_name)
        return None
    return official


def invite_link(turn: Turn, code: str) -> str:
    name = turn.rules.bot_username or "<bot>"
    return f"https://t.me/{name}?start=join_{code}"


# ------------------------------------------------------------------ the list and the card


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
    guarded = await _guarded(turn, "view", load(turn).case_id)
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
    guarded = await _guarded(turn, action.value, load(turn).case_id)
    if guarded is None:
        return Go(LIST)
    officer, case, report = guarded
    if not allowed(case, action):
        return Retry(turn.texts("officer.not_now"))
    if action is Action.ACKNOWLEDGE:
        if await _transition(turn, officer, case, Action.ACKNOWLEDGE):
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
    guarded = await _guarded(turn, "view_evidence", load(turn).case_id)
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


async def _transition(
    turn: Turn,
    officer: Officer,
    case: Case,
    action: Action,
    text: str | None = None,
    detail: dict[str, object] | None = None,
) -> bool:
    """Apply the action by the table and record it; False (and a polite line) when the case's
    state does not allow it, so the caller stops there."""
    try:
        event = apply(
            case,
            action,
            actor="officer",
            now=turn.now,
            officer_id=officer.id,
            text=text,
            detail=detail,
        )
    except NotAllowed:
        turn.say("officer.not_now")
        return False
    await cases.add(event, session=turn.session)
    return True


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


# ------------------------------------------------------------------ ask, transfer, close


async def relay_question(turn: Turn, text: str) -> Outcome:
    """Send the officer's question to the reporter, through the bot."""
    guarded = await _guarded(turn, "ask", load(turn).case_id)
    if guarded is None:
        return Go(LIST)
    officer, case, report = guarded
    if not await _transition(turn, officer, case, Action.ASK, text=text):
        return Go(CARD)
    case.pending_question = text
    await tell_reporter(
        turn, report, "status.news_question", (("status.answer_button", "answer"),), question=text
    )
    turn.say("officer.question_sent")
    return Go(CARD)


async def on_transfer_picked(turn: Turn, agency: Agency) -> Outcome:
    """Move the case to another agency; it keeps its history."""
    guarded = await _guarded(turn, "transfer", load(turn).case_id)
    if guarded is None:
        return Go(LIST)
    officer, case, report = guarded
    if agency.id == case.agency_id:
        return Retry(turn.texts("officer.transfer_same"))
    moved = await _transition(
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
    guarded = await _guarded(turn, "close", load(turn).case_id)
    if guarded is None:
        return Go(LIST)
    officer, case, report = guarded
    if not await _transition(turn, officer, case, Action.CLOSE, text=text):
        return Go(LIST)
    await tell_reporter(turn, report, "status.news_closed", explanation=text)
    turn.say("officer.closed")
    return Go(LIST)


# ------------------------------------------------------------------ deciding


async def ask_outcome(turn: Turn) -> Prompt:
    """Ask for the outcome."""
    t = turn.texts
    return Prompt(t("officer.q_outcome"), tuple(Choice(o, t(f"outcome.{o}")) for o in OUTCOMES))


async def take_outcome(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice not in OUTCOMES:
        return Retry(turn.texts("common.pick_option"))
    draft = load(turn)
    draft.outcome = answer.choice
    save(turn, draft)
    return Go(POST if answer.choice == "reassign" else EXPLAIN)


async def store_post(turn: Turn, text: str) -> Outcome:
    """Keep the new post of the reassigned official."""
    draft = load(turn)
    draft.new_post = text
    save(turn, draft)
    return Go(EFFECTIVE)


async def ask_effective(turn: Turn) -> Prompt:
    """Ask from which day the reassignment takes effect."""
    return Prompt(turn.texts("officer.q_effective"), free_text=True)


async def take_effective(turn: Turn, answer: Answer) -> Outcome:
    day = parse_day(answer.text or "", turn.now.astimezone(LOCAL_ZONE).date())
    if day is None:
        return Retry(turn.texts("report.when_invalid"))
    draft = load(turn)
    draft.effective = day.isoformat()
    save(turn, draft)
    return Go(NUMBER)


async def store_number(turn: Turn, text: str) -> Outcome:
    """Keep the number of the reassignment decision."""
    draft = load(turn)
    draft.decision_no = text
    save(turn, draft)
    return Go(EXPLAIN if draft.review_id is None else CONFIRM)


async def store_explanation(turn: Turn, text: str) -> Outcome:
    """Keep the explanation for the confirmation."""
    turn.draft(FLOW)["explanation"] = text
    return Go(CONFIRM)


def _decision_lines(turn: Turn, draft: OfficerDraft) -> list[str]:
    t = turn.texts
    lines = [t("officer.confirm_outcome", outcome=t(f"outcome.{draft.outcome}"))]
    if draft.outcome == "reassign":
        effective = day_text(date.fromisoformat(draft.effective or ""))
        lines.append(
            t(
                "officer.confirm_reassign",
                post=draft.new_post,
                day=effective,
                number=draft.decision_no,
            )
        )
    return lines


async def ask_confirm(turn: Turn) -> Prompt:
    """Show the decision before it is recorded and sent."""
    t, draft = turn.texts, load(turn)
    lines = _decision_lines(turn, draft)
    explanation = turn.draft(FLOW).get("explanation")
    if explanation:
        lines.append(t("officer.confirm_explanation", text=explanation))
    choices = (Choice("yes", t("officer.confirm_yes")), Choice("no", t("officer.confirm_no")))
    return Prompt("\n".join(lines), choices)


async def take_confirm(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice == "no":
        turn.say("officer.decision_dropped")
        return Go(LIST)
    if answer.choice != "yes":
        return Retry(turn.texts("common.pick_option"))
    draft = load(turn)
    if draft.review_id is not None:
        return await _record_review(turn, draft, "reassign", None)
    return await _record_decision(turn, draft)


async def _record_decision(turn: Turn, draft: OfficerDraft) -> Outcome:
    guarded = await _guarded(turn, "decide", draft.case_id)
    if guarded is None:
        return Go(LIST)
    officer, case, report = guarded
    explanation = str(turn.draft(FLOW).get("explanation", ""))
    detail: dict[str, object] = {"outcome": draft.outcome}
    if draft.outcome == "reassign":
        detail |= {
            "new_post": draft.new_post,
            "effective": draft.effective,
            "decision_no": draft.decision_no,
        }
    if not await _transition(turn, officer, case, Action.DECIDE, text=explanation, detail=detail):
        return Go(LIST)
    case.outcome, case.outcome_note, case.pending_question = draft.outcome, explanation, None
    if draft.outcome == "reassign" and report.official_id is not None:
        await _write_assignment(turn, draft, report.official_id, case_id=case.id)
    await tell_reporter(
        turn,
        report,
        "status.news_decided",
        (("status.resolved_button", "resolved"), ("status.unresolved_button", "unresolved")),
        translated={"outcome": f"outcome.{draft.outcome}"},
        explanation=explanation,
        days=turn.rules.reopen_days,
    )
    turn.say("officer.decided")
    return Go(LIST)


async def _write_assignment(
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
            new_post=draft.new_post or "",
            effective_on=date.fromisoformat(draft.effective or turn.now.date().isoformat()),
            decision_number=draft.decision_no or "",
            case_id=case_id,
            review_id=review_id,
            recorded_at=turn.now,
        )
    )
    await turn.session.flush()


# ------------------------------------------------------------------ reassignment reviews


async def open_review(turn: Turn, argument: str) -> Outcome | None:
    officer = await access.current_officer(turn)
    review = (
        await cases.review_by_id(int(argument), session=turn.session)
        if argument.strip().isdigit()
        else None
    )
    if (
        officer is None
        or review is None
        or review.decided_at is not None
        or not access.in_private_chat(turn, officer)
        or not access.may_review(officer, review.agency_id, review.official_id)
    ):
        await access.refuse(turn, officer, "review", None)
        return None
    await access.record(turn, officer, "review", None)
    draft = OfficerDraft(review_id=review.id)
    save(turn, draft)
    return Go(REVIEW)


async def ask_review(turn: Turn) -> Prompt:
    """Ask the agency's answer to a review: reassign the official, or keep them, and why."""
    t = turn.texts
    review = await cases.review_by_id(load(turn).review_id or 0, session=turn.session)
    official = (
        await officers.official_by_id(review.official_id, session=turn.session) if review else None
    )
    text = t(
        "officer.review_card",
        official=official.name if official else "?",
        count=review.reporters if review else 0,
        due=local_date_text(review.due_at) if review else "?",
    )
    choices = (
        Choice("reassign", t("officer.review_reassign")),
        Choice("keep", t("officer.review_keep")),
    )
    return Prompt(text, choices, back=False)


async def take_review(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice == "reassign":
        draft = load(turn)
        draft.outcome = "reassign"
        save(turn, draft)
        return Go(POST)
    if answer.choice == "keep":
        return Go(REVIEW_REASON)
    return Retry(turn.texts("common.pick_option"))


async def keep_in_post(turn: Turn, text: str) -> Outcome:
    """Record that the official stays in post, and why."""
    return await _record_review(turn, load(turn), "keep", text)


async def _record_review(
    turn: Turn, draft: OfficerDraft, decision: str, reason: str | None
) -> Outcome:
    officer = await access.current_officer(turn)
    review = await cases.review_by_id(draft.review_id or 0, session=turn.session)
    if (
        officer is None
        or review is None
        or review.decided_at is not None
        or not access.may_review(officer, review.agency_id, review.official_id)
    ):
        await access.refuse(turn, officer, "review_decide", None)
        return Go(LIST)
    review.decision, review.reason, review.decided_at = decision, reason, turn.now
    if decision == "reassign":
        await _write_assignment(turn, draft, review.official_id, review_id=review.id)
    await access.record(turn, officer, f"review_{decision}", None)
    intake = await recipients(turn, review.agency_id, review.official_id)
    for target in intake.intake:
        t = await texts_for(turn, target)
        turn.send_to(
            target,
            Reply(
                t(
                    "officer.review_answered",
                    review=review.id,
                    decision=t(f"officer.review_{decision}"),
                )
            ),
        )
    turn.say("officer.review_recorded")
    return Go(LIST)


STEPS = tuple(
    while_active(step)
    for step in (
        Step(LIST, ask_list, take_list),
        Step(CARD, ask_card, take_card),
        text_step(ASK, "officer.q_question", _TEXT_LIMIT, relay_question),
        *picker_steps(TRANSFER, "officer.q_transfer", on_transfer_picked),
        Step(OUTCOME, ask_outcome, take_outcome),
        text_step(POST, "officer.q_post", 200, store_post),
        Step(EFFECTIVE, ask_effective, take_effective),
        text_step(NUMBER, "officer.q_number", 60, store_number),
        text_step(EXPLAIN, "officer.q_explain", _TEXT_LIMIT, store_explanation),
        Step(CONFIRM, ask_confirm, take_confirm),
        text_step(CLOSE, "officer.q_close", _TEXT_LIMIT, close_case),
        Step(REVIEW, ask_review, take_review),
        text_step(REVIEW_REASON, "officer.q_review_reason", _TEXT_LIMIT, keep_in_post),
    )
)
