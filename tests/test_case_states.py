"""The case state machine, driven by Hypothesis with random sequences of actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from handlers.casework.states import TRANSITIONS, Action, NotAllowed, State, apply
from storage.models import Case, CaseEvent

START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


class CaseLifecycle(RuleBasedStateMachine):
    """Any sequence of actions: only the table's transitions happen, each leaves an event, and a
    closed case takes no action but reopening."""

    def __init__(self) -> None:
        super().__init__()
        self.case = Case(
            id=1,
            report_id=1,
            agency_id=1,
            state=State.NEW,
            ack_due=START,
            decide_due=START,
            created_at=START,
            updated_at=START,
        )
        self.events: list[CaseEvent] = []
        self.clock = START
        self.attempts = 0

    @rule(action=st.sampled_from(list(Action)), actor=st.sampled_from(["citizen", "officer"]))
    def act(self, action: Action, actor: str) -> None:
        self.attempts += 1
        self.clock += timedelta(minutes=1)
        before = State(self.case.state)
        try:
            event = apply(self.case, action, actor=actor, now=self.clock)
        except NotAllowed:
            assert before not in TRANSITIONS[action].allowed_from
            assert self.case.state == before, "a refused action changes nothing"
            return
        assert before in TRANSITIONS[action].allowed_from
        if before is State.CLOSED:
            # a closed case reopens, or its personnel track goes on (the case stays closed)
            assert action in (Action.REOPEN, Action.MEASURE)
        expected = TRANSITIONS[action].to or before
        assert self.case.state == expected
        assert (event.from_state, event.to_state, event.action) == (before, expected, action)
        assert (event.actor, event.at, event.case_id) == (actor, self.clock, 1)
        self.events.append(event)

    @invariant()
    def state_is_known(self) -> None:
        assert State(self.case.state) in State

    @invariant()
    def events_form_an_unbroken_timeline(self) -> None:
        state = State.NEW
        for event in self.events:
            assert event.from_state == state
            state = State(event.to_state or state)
        assert state == self.case.state

    @invariant()
    def timestamps_follow_the_state(self) -> None:
        if self.case.state == State.CLOSED:
            assert self.case.closed_at is not None
        if self.case.state == State.DECIDED:
            assert self.case.decided_at is not None


CaseLifecycle.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestCaseLifecycle = CaseLifecycle.TestCase


def test_every_state_can_be_left_except_by_the_table() -> None:
    reachable = {rule.to for rule in TRANSITIONS.values() if rule.to} | {State.NEW}
    assert reachable == set(State)
    closed_exits = [a for a, r in TRANSITIONS.items() if State.CLOSED in r.allowed_from]
    assert closed_exits == [Action.REOPEN, Action.MEASURE]
    assert TRANSITIONS[Action.MEASURE].to is None, "a measure never changes the case's state"
