"""The directive's rules in one place: flags, routing, deadlines, the reassignment review.

- Flag at once: bribe or personal gain, threats; a copy goes to the provincial Inspectorate.
- Routing: a report goes to the leadership of the official's agency, never to the official named
  and never to a unit that official heads (then one level up); intake (Home Affairs) is copied.
- Deadlines: acknowledge within `ack_days`, decide within `decide_days` working days (per
  category if configured); a reminder one working day before, escalation once past it.
- "Bad public opinion" and its review are in `opinion.py`; the review's deadline is watched here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from handlers import access
from handlers.actions import chat_of, learn_locales, send_with_actions, texts_for
from handlers.admin.retention import Job
from handlers.casework.states import WITH_THE_AGENCY, Action, State, transition
from handlers.clock import local_date_text
from handlers.flow import Rules, Turn
from handlers.messages import ConversationKey, Reply
from handlers.workdays import WorkCalendar
from storage import agencies, cases, officers
from storage.models import Agency, Case, CaseEvent, Official, Report, Review

FLAGGED_CATEGORIES = frozenset({"bribe"})


def flag_reason(category: str, threatened: bool) -> str | None:
    if category in FLAGGED_CATEGORIES:
        return category
    return "threat" if threatened else None


def deadlines(rules: Rules, category: str, opened: datetime) -> tuple[datetime, datetime]:
    decide = rules.decide_days_by_category.get(category, rules.decide_days)
    calendar = rules.calendar
    return calendar.add_working_days(opened, rules.ack_days), calendar.add_working_days(
        opened, decide
    )


def restart_deadlines(turn: Turn, case: Case, report: Report) -> None:
    """A transferred or reopened case is new work for someone: the clock starts again."""
    case.ack_due, case.decide_due = deadlines(turn.rules, report.category, turn.now)
    case.acknowledged_at = None


async def handling_agency(agency: Agency, official: Official | None, turn: Turn) -> Agency:
    """The agency itself, or its parent when the named official heads it."""
    if official is None or not official.heads or official.agency_id != agency.id:
        return agency
    if agency.parent_id is None:
        return agency
    parent = await agencies.agency_by_id(agency.parent_id, session=turn.session)
    return parent or agency


async def intake_agency(turn: Turn) -> Agency | None:
    return await agencies.agency_by_code(turn.rules.intake_agency_code, session=turn.session)


@dataclass(frozen=True, slots=True)
class Recipients:
    """`agency` includes the agency's group chats, also listed in `groups`: those get one-line
    notices only, never citizen text, an official's name, a card or a button."""

    agency: list[ConversationKey]
    intake: list[ConversationKey]
    groups: frozenset[ConversationKey] = frozenset()

    def all(self) -> list[ConversationKey]:
        return list(dict.fromkeys([*self.agency, *self.intake]))


async def recipients(
    turn: Turn, agency_id: int, official_id: int | None, *, roles: tuple[str, ...] = access.LEADERS
) -> Recipients:
    """Who hears about a case: the agency's leaders and group chats, and intake's leaders;
    never an officer who is the official the report is about."""

    async def people(of_agency: int) -> list[ConversationKey]:
        found = await officers.officers_of(of_agency, roles, session=turn.session)
        return [
            chat_of(o, turn) for o in found if official_id is None or o.official_id != official_id
        ]

    chats = await officers.agency_chats(agency_id, session=turn.session)
    groups = [chat_of(c, turn) for c in chats]
    intake = await intake_agency(turn)
    intake_keys = [] if intake is None or intake.id is None else await people(intake.id)
    found = Recipients(await people(agency_id) + groups, intake_keys, frozenset(groups))
    await learn_locales(turn, found.all())
    return found


async def notify_group(turn: Turn, target: ConversationKey, key: str, **values: object) -> None:
    """One line to a group chat, in its language: what to open in a private chat, no more."""
    t = await texts_for(turn, target)
    turn.send_to(target, Reply(t(key, **values)))


async def notify_case(
    turn: Turn,
    case: Case,
    report: Report,
    key: str,
    *,
    copy_intake: bool = False,
    agency_id: int | None = None,
    **values: object,
) -> None:
    """Tell the agency handling the case, or `agency_id` (one sent a copy), and intake for new
    and transferred cases, each in their language, with a button to open it; the agency's groups
    get one line instead."""
    targets = await recipients(turn, agency_id or case.agency_id, report.official_id)
    for target in targets.all() if copy_intake else targets.agency:
        if target in targets.groups:
            await notify_group(turn, target, "rooms.case_notice", case=case.id)
            continue
        t = await texts_for(turn, target)
        category = t(f"report.category_{report.category}")
        text = t(key, case=case.id, category=category, **values)
        text += "\n" + t("officer.open_hint", case=case.id)
        await send_with_actions(turn, target, text, [(t("officer.open"), "case", str(case.id))])


def opened_event(case: Case, now: datetime) -> CaseEvent:
    return CaseEvent(
        case_id=case.id or 0,
        at=now,
        actor="citizen",
        action="open",
        to_state=State.NEW,
        detail={"flag": case.flag_reason} if case.flagged else {},
    )


async def open_case(turn: Turn, report: Report, *, threatened: bool) -> Case:
    """Open the case of a new report, route it and flag it (the caller weighs public opinion
    next, `opinion.check_public_opinion`)."""
    agency = await agencies.agency_by_id(report.agency_id, session=turn.session)
    official = (
        await officers.official_by_id(report.official_id, session=turn.session)
        if report.official_id
        else None
    )
    assert agency is not None
    handler = await handling_agency(agency, official, turn)
    ack_due, decide_due = deadlines(turn.rules, report.category, turn.now)
    reason = flag_reason(report.category, threatened)
    case = Case(
        report_id=report.id or 0,
        agency_id=handler.id or 0,
        state=State.NEW,
        flagged=reason is not None,
        flag_reason=reason,
        ack_due=ack_due,
        decide_due=decide_due,
        created_at=turn.now,
        updated_at=turn.now,
    )
    await cases.add(case, session=turn.session)
    await cases.add(opened_event(case, turn.now), session=turn.session)
    flag = "officer.new_case_flagged" if case.flagged else "officer.new_case"
    await notify_case(turn, case, report, flag, copy_intake=True)
    if case.flagged:
        await copy_to_inspectorate(turn, case, report)
    return case


async def copy_to_inspectorate(turn: Turn, case: Case, report: Report) -> None:
    """A bribe or threat case goes to the provincial Inspectorate too, which may see its card
    (as an agency the case was transferred to would) and acts on nothing."""
    code = turn.rules.inspectorate_agency_code
    inspectorate = await agencies.agency_by_code(code, session=turn.session)
    if inspectorate is None or inspectorate.id in (None, case.agency_id):
        return
    case.copied_to = inspectorate.id
    await notify_case(turn, case, report, "officer.copied_case", agency_id=inspectorate.id)


# ------------------------------------------------------------------ the scheduler's rounds


RunJob = Callable[[Job], Awaitable[int]]
"""Runs a job in one transaction and returns the messages it queued (`TurnEngine.run_job`)."""


async def run_due(run_job: RunJob) -> int:
    """One round of the scheduler: reminders, escalations, review deadlines and auto-closing
    (the retention purge follows in its own transactions). What is due is selected in SQL, then
    each case or review is handled in a transaction of its own, so the write lock is held for
    milliseconds at a time and other chats' turns go in between. Returns the messages queued."""
    due = DueWork()
    queued = await run_job(due.select)
    for job in due.jobs():
        if due.gave_way:
            break
        queued += await run_job(job)
    return queued


@dataclass(slots=True)
class DueWork:
    """What one round must do, found by `select`, then done by `jobs`, each a transaction.

    Every transaction takes the scheduler's lock: on PostgreSQL a transaction-scoped advisory
    lock, as the purge's batches do, so no connection stays pinned for a round and a crashed
    process holds nothing. When another process holds it, this round gives way. A round that
    overlaps another's between two transactions still sends nothing twice: the case is read
    again under the lock, and `record_alert` refuses an alert already recorded."""

    gave_way: bool = False
    _case_alerts: list[tuple[int, datetime]] = field(default_factory=list)
    _expired: list[int] = field(default_factory=list)
    _review_alerts: list[tuple[int, datetime]] = field(default_factory=list)
    _now: datetime | None = None
    _calendar: WorkCalendar = field(default_factory=WorkCalendar)

    async def select(self, turn: Turn) -> None:
        """Cases and reviews with an alert due and not sent, and decisions past the reopen
        window. Only SQL runs in this transaction: its bound is coarse, and the working-day
        calendar settles which reminders are due after the commit (`cases`, `reviews`), so the
        write lock is not held while thousands of deadlines are checked."""
        if not await self._locked(turn):
            return
        self._now, self._calendar = turn.now, turn.rules.calendar
        horizon = self._calendar.reminders_horizon(turn.now)
        now, session = turn.now, turn.session
        states = [s.value for s in WITH_THE_AGENCY]
        self._case_alerts = await cases.case_alerts_due(states, now, horizon, session=session)
        window_start = now - timedelta(days=turn.rules.reopen_days)
        self._expired = await cases.decided_before(State.DECIDED, window_start, session=session)
        self._review_alerts = await cases.review_alerts_due(now, horizon, session=session)

    @property
    def cases(self) -> list[int]:
        """The cases to handle: an alert due by the calendar, or a decision to close."""
        due = {i for i, deadline in self._case_alerts if self._alert_due(deadline)}
        return sorted(due | set(self._expired))

    @property
    def reviews(self) -> list[int]:
        return [i for i, deadline in self._review_alerts if self._alert_due(deadline)]

    def _alert_due(self, deadline: datetime) -> bool:
        return self._now is not None and _alert_due(self._now, self._calendar, deadline)

    def jobs(self) -> Iterator[Job]:
        yield from (partial(self._case, case_id) for case_id in self.cases)
        yield from (partial(self._review, review_id) for review_id in self.reviews)

    async def _locked(self, turn: Turn) -> bool:
        self.gave_way = not await officers.take_scheduler_lock(session=turn.session)
        return not self.gave_way

    async def _case(self, case_id: int, turn: Turn) -> None:
        if not await self._locked(turn):
            return
        case = await cases.case_for_update(case_id, session=turn.session)
        if case is not None:
            await _case_deadlines(turn, case)
            await _close_if_unanswered(turn, case)

    async def _review(self, review_id: int, turn: Turn) -> None:
        if not await self._locked(turn):
            return
        review = await cases.review_by_id(review_id, session=turn.session)
        if review is not None and review.decided_at is None:
            await _review_deadline(turn, review)


def _alert_due(now: datetime, calendar: WorkCalendar, due: datetime) -> bool:
    """A reminder is due one working day before the deadline, an escalation after it."""
    return now >= calendar.working_day_before(due)


async def _case_deadlines(turn: Turn, case: Case) -> None:
    if case.state in (State.DECIDED, State.CLOSED):
        return
    unacknowledged = case.acknowledged_at is None
    kind, due = ("ack", case.ack_due) if unacknowledged else ("decide", case.decide_due)
    report = await cases.report_by_id(case.report_id, session=turn.session)
    if report is None:
        return
    subject, now = cases.alert_subject("case", case.id, due), turn.now
    if now >= due:
        if await officers.record_alert(subject, f"{kind}_escalate", now, session=turn.session):
            await _escalate(
                turn,
                case.agency_id,
                report.official_id,
                f"officer.escalate_{kind}",
                case=case.id,
                due=local_date_text(due),
            )
        return
    if _alert_due(turn.now, turn.rules.calendar, due) and await officers.record_alert(
        subject, f"{kind}_remind", now, session=turn.session
    ):
        await notify_case(turn, case, report, f"officer.remind_{kind}", due=local_date_text(due))


async def _escalate(
    turn: Turn, agency_id: int, official_id: int | None, key: str, **values: object
) -> None:
    """Tell the parent agency's leaders and intake that a deadline passed."""
    agency = await agencies.agency_by_id(agency_id, session=turn.session)
    parent_id = agency.parent_id if agency and agency.parent_id else agency_id
    targets = await recipients(turn, parent_id, official_id)
    for target in targets.all():
        t = await texts_for(turn, target)
        text = t(
            key,
            agency=agency.name_en
            if agency and t.locale == "en"
            else (agency.name_vi if agency else "?"),
            **values,
        )
        turn.send_to(target, Reply(text))


async def _review_deadline(turn: Turn, review: Review) -> None:
    subject = cases.alert_subject("review", review.id, review.due_at)
    due = local_date_text(review.due_at)
    if turn.now >= review.due_at:
        if await officers.record_alert(subject, "escalate", turn.now, session=turn.session):
            await _escalate(
                turn,
                review.agency_id,
                review.official_id,
                "officer.escalate_review",
                review=review.id,
                due=due,
            )
    elif _alert_due(turn.now, turn.rules.calendar, review.due_at) and await officers.record_alert(
        subject, "remind", turn.now, session=turn.session
    ):
        for target in (await recipients(turn, review.agency_id, review.official_id)).agency:
            t = await texts_for(turn, target)
            turn.send_to(target, Reply(t("officer.remind_review", review=review.id, due=due)))


async def _close_if_unanswered(turn: Turn, case: Case) -> None:
    """A decided case the reporter did not answer within the reopen window closes itself."""
    if case.state != State.DECIDED or case.decided_at is None:
        return
    if turn.now < case.decided_at + timedelta(days=turn.rules.reopen_days):
        return
    await transition(case, Action.EXPIRE, session=turn.session, actor="system", now=turn.now)
