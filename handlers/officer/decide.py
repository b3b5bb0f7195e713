"""Answering a case: the conclusion and the answer the reporter receives, within the deadline;
and the confirmation before anything is recorded, which a review's reassignment and a personnel
measure (`tracks.py`) share, with their post, day and decision number."""

from __future__ import annotations

from datetime import date

from handlers.casework.states import Action
from handlers.clock import local_day
from handlers.dates import day_text, parse_day
from handlers.flow import Answer, Go, Outcome, Prompt, Retry, Step, Turn
from handlers.officer.desk import (
    CONFIRM,
    DRAFT,
    EFFECTIVE,
    EXPLAIN,
    LIST,
    NUMBER,
    OUTCOME,
    POST,
    TEXT_LIMIT,
    Held,
    OfficerDraft,
    officer_steps,
    tell_reporter,
    transition,
    with_case,
)
from handlers.officer.review import record_review
from handlers.officer.tracks import measure_lines, record_measure
from handlers.steps import confirm_step, option_step, text_step

OUTCOMES = ("founded", "partly", "unfounded", "referred")
"""What the agency concluded about the report; measures about the official are a track apart."""


async def store_outcome(turn: Turn, outcome: str) -> Outcome:
    """Keep what the agency concluded; the answer to the reporter is asked next."""
    DRAFT.update(turn, outcome=outcome)
    return Go(EXPLAIN)


async def store_post(turn: Turn, text: str) -> Outcome:
    """Keep the work the official is moved to."""
    DRAFT.update(turn, new_post=text)
    return Go(EFFECTIVE)


async def ask_effective(turn: Turn) -> Prompt:
    """Ask from which day the reassignment or measure takes effect."""
    return Prompt(turn.texts("officer.q_effective"), free_text=True)


async def take_effective(turn: Turn, answer: Answer) -> Outcome:
    day = parse_day(answer.text or "", local_day(turn.now))
    if day is None:
        return Retry(turn.texts("report.when_invalid"))
    DRAFT.update(turn, effective=day.isoformat())
    return Go(NUMBER)


async def store_number(turn: Turn, text: str) -> Outcome:
    """Keep the number of the decision."""
    DRAFT.update(turn, decision_no=text)
    return Go(CONFIRM)


async def store_explanation(turn: Turn, text: str) -> Outcome:
    """Keep the explanation for the confirmation."""
    DRAFT.update(turn, explanation=text)
    return Go(CONFIRM)


def _decision_lines(turn: Turn, draft: OfficerDraft) -> list[str]:
    t = turn.texts
    if draft.measure:
        return measure_lines(turn, draft)
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


async def decision_summary(turn: Turn) -> str:
    """Show the decision before it is recorded and sent."""
    t, draft = turn.texts, DRAFT.load(turn)
    lines = _decision_lines(turn, draft)
    if draft.explanation:
        lines.append(t("officer.confirm_explanation", text=draft.explanation))
    return "\n".join(lines)


async def drop_decision(turn: Turn) -> Outcome:
    turn.say("officer.decision_dropped")
    return Go(LIST)


async def record_confirmed(turn: Turn) -> Outcome:
    """Record the decision, or the review's reassignment."""
    draft = DRAFT.load(turn)
    if draft.review_id is not None:
        return await record_review(turn, draft, "reassign", None)
    if draft.measure is not None:
        return await record_measure(turn, draft)
    return await _record_decision(turn, draft)


@with_case("decide")
async def _record_decision(turn: Turn, held: Held, draft: OfficerDraft) -> Outcome:
    """Record the answer on the case and tell the reporter, who may then say whether it
    resolved the matter."""
    case, report = held.case, held.report
    explanation = draft.explanation or ""
    detail: dict[str, object] = {"outcome": draft.outcome}
    if not await transition(turn, held, Action.DECIDE, text=explanation, detail=detail):
        return Go(LIST)
    case.outcome, case.outcome_note, case.pending_question = draft.outcome, explanation, None
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


STEPS = officer_steps(
    option_step(
        OUTCOME, "officer.q_outcome", OUTCOMES, "outcome", store_outcome, owns=("outcome",)
    ),
    text_step(POST, "officer.q_post", 200, store_post, owns=("new_post",)),
    Step(EFFECTIVE, ask_effective, take_effective, owns=("effective",)),
    text_step(NUMBER, "officer.q_number", 60, store_number, owns=("decision_no",)),
    text_step(EXPLAIN, "officer.q_explain", TEXT_LIMIT, store_explanation, owns=("explanation",)),
    confirm_step(CONFIRM, "officer.confirm", decision_summary, record_confirmed, drop_decision),
)
