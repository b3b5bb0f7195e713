"""What runs beside the answer to the reporter: extending its deadline once, with a reason the
reporter is told, and the personnel track — a measure about the official reported (moved off
citizen-facing work while the report is verified, reassigned, proposed for discipline) with its
own date and decision, reported to intake, which follows its own procedure and clock."""

from __future__ import annotations

from datetime import date

from handlers.actions import texts_for
from handlers.casework.escalation import recipients
from handlers.casework.states import Action
from handlers.clock import local_date_text
from handlers.dates import day_text
from handlers.flow import Answer, Go, Outcome, Prompt, Retry, Step, Turn
from handlers.messages import Reply
from handlers.officer.desk import (
    CARD,
    DRAFT,
    EFFECTIVE,
    EXTEND,
    EXTEND_REASON,
    MEASURE,
    POST,
    Held,
    OfficerDraft,
    officer_steps,
    tell_reporter,
    transition,
    with_case,
    write_assignment,
)
from handlers.steps import option_step, text_step
from storage import cases, officers
from storage.models import Case

MEASURES = ("suspend", "reassign", "discipline")
"""The personnel measures; the first two move the official, so they name the new work."""
REASON_LIMIT = 500


def may_extend(turn: Turn, case: Case) -> bool:
    """Once per case, and only before the deadline to answer has passed."""
    return case.extended_days is None and turn.now < case.decide_due


async def ask_extend(turn: Turn) -> Prompt:
    """Ask by how many working days the deadline to answer is extended."""
    return Prompt(turn.texts("officer.q_extend", most=turn.rules.extension_days), free_text=True)


async def take_extend(turn: Turn, answer: Answer) -> Outcome:
    text = (answer.text or "").strip()
    most = turn.rules.extension_days
    if not text.isdigit() or not 1 <= int(text) <= most:
        return Retry(turn.texts("officer.extend_invalid", most=most))
    DRAFT.update(turn, extend_days=int(text))
    return Go(EXTEND_REASON)


@with_case("extend")
async def extend(turn: Turn, held: Held, reason: str) -> Outcome:
    """Move the deadline to answer by the working days asked, once, and tell the reporter
    the new deadline and why."""
    case, days = held.case, DRAFT.load(turn).extend_days or 0
    await cases.lock(case, session=turn.session)  # two leaders at once: the second sees the first
    if not may_extend(turn, case) or not 1 <= days <= turn.rules.extension_days:
        turn.say("officer.extend_not_now")
        return Go(CARD)
    due = turn.rules.calendar.add_working_days(case.decide_due, days)
    detail = {"days": days, "due": due.isoformat()}
    if not await transition(turn, held, Action.EXTEND, text=reason, detail=detail):
        return Go(CARD)
    case.decide_due, case.extended_days = due, days
    when = local_date_text(due)
    await tell_reporter(
        turn, held.report, "status.news_extended", days=days, due=when, reason=reason
    )
    turn.say("officer.extended", due=when)
    return Go(CARD)


async def store_measure(turn: Turn, measure: str) -> Outcome:
    """Keep which personnel measure was taken about the official reported; one that moves
    them asks for the new work first."""
    DRAFT.update(turn, measure=measure)
    return Go(EFFECTIVE if measure == "discipline" else POST)


def measure_lines(turn: Turn, draft: OfficerDraft) -> list[str]:
    """The measure as the confirmation shows it."""
    t = turn.texts
    effective = day_text(date.fromisoformat(draft.effective or ""))
    lines = [t("officer.confirm_measure", measure=t(f"measure.{draft.measure}"))]
    if draft.new_post:
        lines.append(t("officer.confirm_post", post=draft.new_post))
    lines.append(t("officer.confirm_decision", day=effective, number=draft.decision_no))
    return lines


@with_case("measure")
async def record_measure(turn: Turn, held: Held, draft: OfficerDraft) -> Outcome:
    """Write the measure to the official's history and the case's timeline (never shown to
    the reporter), and report it to intake."""
    official_id = held.report.official_id
    official = await officers.official_by_id(official_id or 0, session=turn.session)
    if official is None or official.id is None:
        return Go(CARD)
    detail = {
        "measure": draft.measure,
        "effective": draft.effective,
        "decision_no": draft.decision_no,
    }
    if not await transition(turn, held, Action.MEASURE, text=draft.new_post, detail=detail):
        return Go(CARD)
    await write_assignment(turn, draft, official.id, case_id=held.case.id)
    targets = await recipients(turn, held.case.agency_id, official.id)
    for target in targets.intake:
        t = await texts_for(turn, target)
        text = t(
            "officer.measure_reported",
            case=held.case.id,
            official=official.name,
            measure=t(f"measure.{draft.measure}"),
            day=day_text(date.fromisoformat(draft.effective or "")),
            number=draft.decision_no,
        )
        turn.send_to(target, Reply(text))
    turn.say("officer.measure_recorded")
    return Go(CARD)


STEPS = officer_steps(
    Step(EXTEND, ask_extend, take_extend),
    text_step(EXTEND_REASON, "officer.q_extend_reason", REASON_LIMIT, extend),
    option_step(MEASURE, "officer.q_measure", MEASURES, "measure", store_measure),
)
