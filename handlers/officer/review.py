"""Reassignment reviews: when reports against one official pass the threshold, the agency
answers whether the official is reassigned or kept in post, and why."""

from __future__ import annotations

from handlers import access
from handlers.actions import texts_for
from handlers.casework.escalation import recipients
from handlers.casework.opinion import review_card
from handlers.flow import Answer, Go, Outcome, Prompt, Retry, Step, Turn, parse_id
from handlers.messages import Choice, Reply
from handlers.officer.desk import (
    DRAFT,
    LIST,
    POST,
    REVIEW,
    REVIEW_REASON,
    TEXT_LIMIT,
    OfficerDraft,
    officer_steps,
    write_assignment,
)
from handlers.steps import text_step
from storage import cases


async def open_review(turn: Turn, argument: str) -> Outcome | None:
    officer = await access.current_officer(turn)
    review_id = parse_id(argument)
    review = await cases.review_by_id(review_id, session=turn.session) if review_id else None
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
    DRAFT.save(turn, draft)
    return Go(REVIEW)


async def ask_review(turn: Turn) -> Prompt:
    """Ask the agency's answer to a review: reassign the official, or keep them, and why."""
    t = turn.texts
    review = await cases.review_by_id(DRAFT.load(turn).review_id or 0, session=turn.session)
    text = await review_card(turn, review) if review else t("officer.to_list_hint")
    choices = (
        Choice("reassign", t("officer.review_reassign")),
        Choice("keep", t("officer.review_keep")),
    )
    return Prompt(text, choices, back=False)


async def take_review(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice == "reassign":
        draft = DRAFT.load(turn)
        draft.outcome = "reassign"
        DRAFT.save(turn, draft)
        return Go(POST)
    if answer.choice == "keep":
        return Go(REVIEW_REASON)
    return Retry(turn.pick_hint())


async def keep_in_post(turn: Turn, text: str) -> Outcome:
    """Record that the official stays in post, and why."""
    return await record_review(turn, DRAFT.load(turn), "keep", text)


async def record_review(
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
        await write_assignment(turn, draft, review.official_id, review_id=review.id)
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


STEPS = officer_steps(
    Step(REVIEW, ask_review, take_review),
    text_step(REVIEW_REASON, "officer.q_review_reason", TEXT_LIMIT, keep_in_post),
)
