"""The scheduler's round in small steps: what is due is found in SQL, each case is its own short
transaction, and other chats are answered while a round runs."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from bot.runtime import Runtime
from bot.scheduler import run_round
from handlers.admin.retention import Sweeper
from handlers.casework.escalation import DueWork, run_due
from handlers.casework.states import State
from handlers.workdays import WorkCalendar
from storage.models import Case, Official, Review
from tests.casework import bulk_cases, officer
from tests.conftest import Chat, Clock
from tests.transactions import Transactions

World = tuple[Runtime, list[tuple[str, str]]]

moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(deadline=None)
@given(now=moments, ahead=st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=9)))
def test_the_query_bound_keeps_every_deadline_whose_reminder_is_due(
    now: datetime, ahead: timedelta
) -> None:
    due, calendar = now + ahead, WorkCalendar()
    if now >= calendar.working_day_before(due):
        assert due < calendar.reminders_horizon(now)


async def selected(runtime: Runtime) -> DueWork:
    work = DueWork()
    await runtime.engine.run_job(work.select)
    return work


async def test_a_round_selects_only_what_is_due_and_not_yet_sent(
    runtime: World, clock: Clock
) -> None:
    rt, _ = runtime
    now = clock.now  # Monday 30 Nov, 09:00 in Vietnam
    # Not due; past due; reminder due (acknowledge by today 17:00); decided 15 days ago; closed.
    await bulk_cases(rt, [now, now - timedelta(days=20), now - timedelta(days=4)])
    await bulk_cases(rt, [now - timedelta(days=20)] * 2, agency="615")
    async with rt.sessions() as session, session.begin():
        ids = list((await session.scalars(select(Case.id).order_by(Case.id))).all())
        fresh, late, reminded, decided, closed = ids
        await session.execute(
            update(Case)
            .where(Case.id == decided)
            .values(state=State.DECIDED, decided_at=now - timedelta(days=15))
        )
        await session.execute(update(Case).where(Case.id == closed).values(state=State.CLOSED))
        official = await session.scalar(select(Official).limit(1))
        assert official is not None and official.id is not None
        review = Review(
            official_id=official.id,
            agency_id=official.agency_id,
            opened_at=now - timedelta(days=10),
            due_at=now - timedelta(days=3),
            reporters=3,
        )
        session.add(review)
    work = await selected(rt)
    assert (work.cases, work.reviews) == ([late, reminded, decided], [review.id])

    await run_due(rt.engine.run_job)
    work = await selected(rt)
    assert (work.cases, work.reviews) == ([], [])  # the alerts sent are left out in SQL
    assert await run_due(rt.engine.run_job) == 0

    clock.advance(hours=8, minutes=1)  # 17:01: the reminded case is now past its deadline
    assert (await selected(rt)).cases == [reminded]
    assert fresh not in (await selected(rt)).cases


@pytest.mark.slow
async def test_another_chat_is_answered_while_a_round_runs(runtime: World, clock: Clock) -> None:
    """500 open cases, 60 of them past their deadline: the round escalates each in a
    transaction of its own (it was once all one, for seconds), so a citizen's /start elsewhere
    is answered before the round ends."""
    rt, output = runtime
    await officer(rt, output, "leader-615", "615", "leader")
    await officer(rt, output, "intake", "62-SNV", "admin")
    await bulk_cases(rt, [clock.now] * 440 + [clock.now - timedelta(days=20)] * 60)
    transactions = Transactions(rt.db)
    started = time.perf_counter()
    round_ = asyncio.create_task(run_round(rt.engine, Sweeper()))
    await transactions.under_way.wait()
    reply = await Chat(rt, output, "citizen-2").say("/start")
    assert "Thông báo về dữ liệu cá nhân" in reply
    assert not round_.done()
    assert await round_ == 120  # to the district's leader and to intake, for each late case
    elapsed = time.perf_counter() - started
    assert 0 < transactions.most_statements(round_) <= 20  # the selection, or one case
    assert transactions.longest(round_) < elapsed / 5
