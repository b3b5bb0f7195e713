"""Case states and the one table of allowed transitions.

States are data: `TRANSITIONS` says which action may move a case from which states to which
state. `apply` is the table's rule, and it always returns the event that records who did it and
when; `transition` is the only way a stored case changes state: it locks the case's row first,
so two people acting on one case at once (two leaders, an officer and the reporter) take turns
and the second is judged against the first one's result. Message-like actions (a citizen adding
information) keep the state but are events too, so the timeline is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from storage import cases
from storage.models import Case, CaseEvent


class State(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    AWAITING_REPORTER = "awaiting_reporter"
    DECIDED = "decided"
    CLOSED = "closed"
    TRANSFERRED = "transferred"
    REOPENED = "reopened"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASK = "ask"
    ANSWER = "answer"
    ADD_INFO = "add_info"
    TRANSFER = "transfer"
    DECIDE = "decide"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    CLOSE = "close"
    EXPIRE = "expire"
    LINK = "link"
    EXTEND = "extend"
    MEASURE = "measure"


_OPEN_FOR_WORK = frozenset({State.ACKNOWLEDGED, State.INVESTIGATING, State.REOPENED})
_NOT_FINISHED = frozenset({State.NEW, State.TRANSFERRED, State.AWAITING_REPORTER} | _OPEN_FOR_WORK)


@dataclass(frozen=True, slots=True)
class Rule:
    allowed_from: frozenset[State]
    to: State | None
    """None keeps the state (an event only)."""


TRANSITIONS: dict[Action, Rule] = {
    Action.ACKNOWLEDGE: Rule(
        frozenset({State.NEW, State.TRANSFERRED, State.REOPENED}), State.ACKNOWLEDGED
    ),
    Action.ASK: Rule(_OPEN_FOR_WORK | {State.AWAITING_REPORTER}, State.AWAITING_REPORTER),
    Action.ANSWER: Rule(frozenset({State.AWAITING_REPORTER}), State.INVESTIGATING),
    Action.ADD_INFO: Rule(_NOT_FINISHED, None),
    Action.TRANSFER: Rule(
        frozenset({State.NEW, State.TRANSFERRED}) | _OPEN_FOR_WORK, State.TRANSFERRED
    ),
    Action.DECIDE: Rule(_OPEN_FOR_WORK | {State.AWAITING_REPORTER}, State.DECIDED),
    Action.CONFIRM: Rule(frozenset({State.DECIDED}), State.CLOSED),
    Action.REOPEN: Rule(frozenset({State.DECIDED, State.CLOSED}), State.REOPENED),
    # An agency may close a case it will not decide (a duplicate, say); once decided, only the
    # reporter's answer or the end of the reopen window closes it, so the right to reopen stands.
    Action.CLOSE: Rule(_OPEN_FOR_WORK, State.CLOSED),
    Action.EXPIRE: Rule(frozenset({State.DECIDED}), State.CLOSED),
    # An officer names the listed official a described report is about: public opinion counts it.
    Action.LINK: Rule(_NOT_FINISHED | {State.DECIDED}, None),
    # The deadline to answer, extended once while the agency still works on the case.
    Action.EXTEND: Rule(_OPEN_FOR_WORK | {State.AWAITING_REPORTER}, None),
    # The personnel track follows its own procedure and clock, after the answer too.
    Action.MEASURE: Rule(frozenset(State), None),
}

OPEN_STATES = frozenset(State) - {State.CLOSED}
WITH_THE_AGENCY = OPEN_STATES - {State.DECIDED}
"""Open cases still waiting for the agency (a decided case waits only for the reporter)."""


class NotAllowed(Exception):
    """The action is not in the table for the case's state; nothing changed."""


def allowed(case: Case, action: Action) -> bool:
    return State(case.state) in TRANSITIONS[action].allowed_from


class Move(TypedDict):
    """Who moves a case, when, and what the event keeps: what `apply` and `transition` take."""

    actor: str
    now: datetime
    officer_id: NotRequired[int | None]
    text: NotRequired[str | None]
    detail: NotRequired[dict[str, Any] | None]


def apply(case: Case, action: Action, **move: Unpack[Move]) -> CaseEvent:
    """Move the case by the table (or refuse) and return the event that records it."""
    now = move["now"]
    rule = TRANSITIONS[action]
    before = State(case.state)
    if before not in rule.allowed_from:
        raise NotAllowed(f"{action} is not allowed in state {before}")
    after = rule.to or before
    case.state = after
    case.updated_at = now
    if action is Action.ACKNOWLEDGE:
        case.acknowledged_at = now
    elif action is Action.DECIDE:
        case.decided_at = now
    elif after is State.CLOSED:
        case.closed_at = now
    elif action is Action.REOPEN:
        case.closed_at = None
    if case.id is None:
        raise ValueError("the case must be stored before it can change")
    return CaseEvent(
        case_id=case.id,
        at=now,
        actor=move["actor"],
        officer_id=move.get("officer_id"),
        action=action,
        from_state=before,
        to_state=after,
        text=move.get("text"),
        detail=move.get("detail") or {},
    )


async def transition(
    case: Case, action: Action, *, session: AsyncSession, **move: Unpack[Move]
) -> CaseEvent:
    """Lock the stored case, move it by the table (or refuse: `NotAllowed`, with the case
    showing the state that refused) and store the event."""
    await cases.lock(case, session=session)
    event = apply(case, action, **move)
    await cases.add(event, session=session)
    return event
