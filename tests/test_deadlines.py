"""Deadlines on Vietnamese working days, reminders and escalations sent once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.runtime import Runtime
from bot.scheduler import run_round
from handlers.admin.retention import Sweeper
from handlers.casework.escalation import deadlines
from handlers.flow import Rules
from handlers.workdays import WorkCalendar
from storage.models import Alert, Case, CaseEvent
from tests.casework import Group, citizen, file_report, officer, registered_group
from tests.conftest import Chat, Clock
from tests.dialogue import number_of

World = tuple[Runtime, list[tuple[str, str]]]


NATIONAL = WorkCalendar()


@pytest.mark.parametrize(
    "day",
    [
        *(date(2025, 1, d) for d in range(27, 32)),  # Tết Ất Tỵ: 27–31 January 2025
        *(date(2026, 2, d) for d in range(16, 21)),  # Tết Bính Ngọ: 16–20 February 2026
        date(2025, 5, 2),  # swapped with Saturday 26 April 2025
        date(2026, 4, 27),  # Hùng Kings' day (Sunday 26 April) carried to Monday
        date(2026, 9, 2),
    ],
)
def test_holidays_and_swapped_days_off_do_not_count(day: date) -> None:
    assert not NATIONAL.is_working_day(day)


def test_a_make_up_saturday_counts_as_a_working_day() -> None:
    make_up = date(2025, 4, 26)  # worked in exchange for Friday 2 May 2025
    assert make_up.weekday() == 5
    assert NATIONAL.is_working_day(make_up)
    assert not NATIONAL.is_working_day(date(2025, 4, 19))  # an ordinary Saturday
    thursday = datetime(2025, 4, 24, 3, 0, tzinfo=UTC)
    assert NATIONAL.add_working_days(thursday, 2).date() == make_up


def test_working_days_skip_weekends_and_tet() -> None:
    friday_before_tet = datetime(2026, 2, 13, 3, 0, tzinfo=UTC)
    due = NATIONAL.add_working_days(friday_before_tet, 2)
    assert due.date() == date(2026, 2, 24)
    assert NATIONAL.working_day_before(due).date() == date(2026, 2, 23)
    assert NATIONAL.working_day_before(datetime(2026, 11, 30, 10, 0, tzinfo=UTC)).date() == date(
        2026, 11, 27
    )


def test_the_settings_add_days_off_and_make_up_days() -> None:
    calendar = (
        Settings(extra_days_off=[date(2026, 12, 31)], makeup_working_days=[date(2026, 12, 26)])
        .rules()
        .calendar
    )
    assert not calendar.is_working_day(date(2026, 12, 31))
    assert calendar.is_working_day(date(2026, 12, 26))
    tuesday = datetime(2026, 12, 29, 3, 0, tzinfo=UTC)
    assert calendar.add_working_days(tuesday, 2).date() == date(2027, 1, 4)  # 30 Dec, then 4 Jan
    christmas_eve = datetime(2026, 12, 24, 3, 0, tzinfo=UTC)
    assert calendar.add_working_days(christmas_eve, 2).date() == date(2026, 12, 26)


async def scheduler_round(runtime: Runtime) -> int:
    queued = await run_round(runtime.engine, Sweeper())
    await runtime.dispatcher.deliver_due()
    return queued


async def test_an_unacknowledged_case_is_reminded_then_escalated_once(
    runtime: World, clock: Clock, settings: Settings
) -> None:
    rt, output = runtime
    desk = await officer(rt, output, "leader-mc", "615-MC", "leader")
    district = await officer(rt, output, "leader-615", "615", "leader")
    intake = await officer(rt, output, "intake", "62-SNV", "admin")
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter)  # Monday 30 Nov, 09:00: acknowledge by Wednesday 2 Dec, 17:00
    assert await scheduler_round(rt) == 0

    clock.advance(days=1, hours=8)  # Tuesday 17:00: one working day before the deadline
    assert await scheduler_round(rt) == 1
    assert sum("Nhắc việc: hồ sơ" in m for m in desk.received()) == 1
    assert await scheduler_round(rt) == 0

    clock.advance(days=1, minutes=1)  # Wednesday 17:01: past the deadline
    assert await scheduler_round(rt) == 2
    assert sum("Quá hạn: Bộ phận Một cửa huyện Đắk Hà" in m for m in district.received()) == 1
    assert sum("Quá hạn" in m for m in intake.received()) == 1
    assert not any("Quá hạn" in m for m in desk.received())

    await rt.close()  # a restarted scheduler sends nothing again
    output2: list[tuple[str, str]] = []
    from bot.channels.console import CHANNEL, ConsoleChannel
    from bot.runtime import open_runtime

    again = await open_runtime(
        settings, {CHANNEL: ConsoleChannel(write=lambda c, t: output2.append((c, t)))}, clock=clock
    )
    try:
        assert await scheduler_round(again) == 0
        clock.advance(days=3)
        assert await scheduler_round(again) == 0
        async with again.sessions() as session:
            alerts = (await session.scalars(select(Alert))).all()
        assert {a.kind for a in alerts} == {"ack_remind", "ack_escalate"}
    finally:
        await again.close()


async def test_decided_cases_close_themselves_after_the_reopen_window(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    desk = await officer(rt, output, "leader-mc", "615-MC", "leader")
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter)
    [case] = await reporter.rows(Case)
    out = await desk.say(f"/case {case.id}")
    out = await desk.say(number_of(out, "Tiếp nhận"))
    out = await desk.say(number_of(out, "Ra kết quả xử lý"))
    out = await desk.say(number_of(out, "Phản ánh có cơ sở"))
    out = await desk.say("Đã nhắc nhở công chức.")
    await desk.say(number_of(out, "Xác nhận"))
    clock.advance(days=13)
    await scheduler_round(rt)
    assert (await reporter.rows(Case))[0].state == "decided"
    clock.advance(days=2)
    await scheduler_round(rt)
    [case] = await reporter.rows(Case)
    assert case.state == "closed"
    assert [e.actor for e in await reporter.rows(CaseEvent)][-1] == "system"


async def test_transfer_keeps_the_history_and_reaches_the_new_agency(runtime: World) -> None:
    rt, output = runtime
    desk = await officer(rt, output, "leader-mc", "615-MC", "leader")
    other = await officer(rt, output, "leader-tp", "62-STP", "leader")
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter)
    [case] = await reporter.rows(Case)
    out = await desk.say(f"/case {case.id}")
    out = await desk.say(number_of(out, "Chuyển cơ quan khác"))
    out = await desk.say("tu phap")
    out = await desk.say(number_of(out, "Sở Tư pháp"))
    assert "Đã chuyển hồ sơ đến Sở Tư pháp" in out
    assert any(
        f"Hồ sơ phản ánh #{case.id}" in m and "được chuyển đến" in m for m in other.received()
    )
    out = await desk.say(f"/case {case.id}")
    assert "không có quyền" in out
    out = await other.say(f"/case {case.id}")
    assert "Đã chuyển cơ quan khác" in out
    out = await other.say(number_of(out, "Tiếp nhận"))
    assert [e.action for e in await reporter.rows(CaseEvent)] == [
        "open",
        "transfer",
        "acknowledge",
    ]
    assert any("đã được chuyển đến cơ quan có thẩm quyền" in m for m in reporter.received())


async def test_a_group_chat_registered_by_a_leader_receives_cases(runtime: World) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader-mc", "615-MC", "leader")
    group = Group(rt, output, "group-mc")
    refused = await group.say_as(Chat(rt, output, "member"), "/register")
    assert "không có quyền" in refused
    await registered_group(rt, output, "group-mc", leader)
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter)
    [case] = await reporter.rows(Case)
    assert any(f"Hồ sơ phản ánh #{case.id} có thông tin mới" in m for m in group.received())


def test_deadlines_can_differ_by_category() -> None:
    rules = Rules(decide_days_by_category={"bribe": 5})
    monday = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    ack, bribe = deadlines(rules, "bribe", monday)
    _, other = deadlines(rules, "rude", monday)
    assert ack.date() == date(2026, 12, 2)
    assert bribe.date() == date(2026, 12, 7) and other.date() == date(2026, 12, 14)


async def test_an_acknowledged_case_is_reminded_then_escalated_before_its_decision(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    desk = await officer(rt, output, "leader-mc", "615-MC", "leader")
    district = await officer(rt, output, "leader-615", "615", "leader")
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter)  # Monday 30 Nov, 09:00: decide by Monday 14 Dec, 17:00
    [case] = await reporter.rows(Case)
    card = await desk.say(f"/case {case.id}")
    await desk.say(number_of(card, "Tiếp nhận"))
    clock.advance(days=11, hours=7, minutes=59)  # Friday 11 Dec 16:59: not yet
    await scheduler_round(rt)
    assert not any("Nhắc việc" in m for m in desk.received())

    clock.advance(minutes=1)  # Friday 17:00: one working day before the deadline
    await scheduler_round(rt)
    assert sum("Nhắc việc: hồ sơ" in m for m in desk.received()) == 1
    assert not any("Quá hạn" in m for m in district.received())

    clock.advance(days=3, minutes=1)  # Monday 14 Dec 17:01: past the deadline
    await scheduler_round(rt)
    await scheduler_round(rt)
    assert sum("Quá hạn" in m for m in district.received()) == 1
    async with rt.sessions() as session:
        kinds = {a.kind for a in (await session.scalars(select(Alert))).all()}
    assert {"decide_remind", "decide_escalate"} <= kinds and "ack_escalate" not in kinds


async def test_the_case_list_puts_the_nearest_deadline_first(runtime: World, clock: Clock) -> None:
    rt, output = runtime
    desk = await officer(rt, output, "leader-mc", "615-MC", "leader")
    first, second = await citizen(rt, output, "citizen-1"), await citizen(rt, output, "citizen-2")
    await file_report(first)
    clock.advance(hours=1)
    await file_report(second)
    older, newer = sorted(await first.rows(Case), key=lambda c: c.id or 0)
    card = await desk.say(f"/case {older.id}")
    await desk.say(number_of(card, "Tiếp nhận"))  # its next deadline is now the decision's
    listing = await desk.say("/cases")
    assert listing.index(f"#{newer.id} ·") < listing.index(f"#{older.id} ·")
