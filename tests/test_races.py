"""Two people acting on one case at the same moment (they meet on PostgreSQL, where turns of
different chats run side by side: the `[postgres]` variants show the race itself).

Each test holds the case's row while the two turns start, so both are under way before either
can change the case, then lets go. On SQLite the one writer runs them one after the other; the
outcome must be the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from bot.runtime import Runtime
from handlers.casework.states import Action, State
from storage import cases
from storage.models import Case, CaseEvent, NotifyToken
from tests.casework import citizen, file_report, officer
from tests.conftest import Chat
from tests.dialogue import number_of

World = tuple[Runtime, list[tuple[str, str]]]


@contextlib.asynccontextmanager
async def case_held(rt: Runtime, case_id: int) -> AsyncIterator[None]:
    """Another transaction holds the case (its row on PostgreSQL, the write lock on SQLite)."""
    async with rt.sessions() as session, session.begin():
        await cases.case_for_update(case_id, session=session)
        yield


async def waiting(rt: Runtime, turns: int) -> None:
    """Until `turns` transactions wait for a lock (PostgreSQL); SQLite queues them in process."""
    if rt.db.dialect.name == "sqlite":
        await asyncio.sleep(0.1)  # let the turns reach the queue, in the order they started
        return
    waits = text(  # this test's database only: other tests run on the same server at once
        "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)"
        " WHERE NOT granted AND datname = current_database()"
    )
    for _ in range(500):
        async with rt.reads() as session:
            if (await session.scalar(waits) or 0) >= turns:
                return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{turns} turns never waited for the case")


async def at_decision(leader: Chat, case_id: int) -> str:
    """The leader at the last step of a decision: the next message confirms it."""
    card = await leader.say(f"/case {case_id}")
    out = await leader.say(number_of(card, "Ra kết quả xử lý"))
    out = await leader.say(number_of(out, "Phản ánh có cơ sở, đã chấn chỉnh"))
    return await leader.say("Đã chấn chỉnh việc tiếp nhận hồ sơ.")


async def test_two_leaders_closing_and_deciding_at_once_one_wins_the_other_is_told(
    runtime: World,
) -> None:
    rt, output = runtime
    decider = await officer(rt, output, "leader-a", "615-MC", "leader")
    closer = await officer(rt, output, "leader-b", "615-MC", "leader")
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter)
    [case] = await reporter.rows(Case)
    assert case.id is not None
    card = await decider.say(f"/case {case.id}")
    await decider.say(number_of(card, "Tiếp nhận"))
    confirmation = await at_decision(decider, case.id)
    card = await closer.say(f"/case {case.id}")
    assert "khi kết thúc hồ sơ" in await closer.say(number_of(card, "Kết thúc"))
    async with case_held(rt, case.id):
        decided = asyncio.create_task(decider.say(number_of(confirmation, "Xác nhận")))
        await waiting(rt, 1)
        closed = asyncio.create_task(closer.say("Hồ sơ trùng với phản ánh trước."))
        await waiting(rt, 2)
    decided_out, closed_out = await asyncio.gather(decided, closed)
    events = [e.action for e in await reporter.rows(CaseEvent)]
    assert events.count(Action.DECIDE) == 1
    assert Action.CLOSE not in events, "the close came second and was refused"
    assert (await reporter.rows(Case))[0].state == State.DECIDED
    assert "không thực hiện được" in closed_out and "“Đã có kết quả xử lý”" in closed_out
    assert "không thực hiện được" not in decided_out


async def test_an_answer_while_the_officer_decides_keeps_both_without_a_deadlock(
    runtime: World, caplog: pytest.LogCaptureFixture
) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader-a", "615-MC", "leader")
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter)
    [case] = await reporter.rows(Case)
    assert case.id is not None
    card = await leader.say(f"/case {case.id}")
    card = await leader.say(number_of(card, "Tiếp nhận"))
    await leader.say(number_of(card, "Hỏi người phản ánh"))
    await leader.say("Ông/Bà nộp hồ sơ vào ngày nào?")
    [token] = [t.token for t in await reporter.rows(NotifyToken) if t.chat_ref == reporter.ref()]
    assert "Xin Ông/Bà nhập câu trả lời" in await reporter.press(f"{token}:a0")
    confirmation = await at_decision(leader, case.id)
    with caplog.at_level(logging.WARNING):
        async with case_held(rt, case.id):
            answered = asyncio.create_task(reporter.say("Tôi nộp ngày 25/11/2026."))
            await waiting(rt, 1)
            decided = asyncio.create_task(leader.say(number_of(confirmation, "Xác nhận")))
            await waiting(rt, 2)
        answered_out, decided_out = await asyncio.gather(answered, decided)
    events = [e.action for e in await reporter.rows(CaseEvent)]
    assert Action.ANSWER in events and Action.DECIDE in events, "both kept"
    assert (await reporter.rows(Case))[0].state == State.DECIDED
    assert "không thực hiện được" not in decided_out
    assert "Câu trả lời đã được chuyển đến cơ quan xử lý" in answered_out
    assert not [r for r in caplog.records if "deadlock" in r.getMessage().lower()]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
