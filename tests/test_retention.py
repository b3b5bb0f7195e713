"""Retention that happens: with a moved clock, the scheduler's purge removes what the privacy
notice says it removes, keeps the statistics, and counts every purge in the audit log."""

from __future__ import annotations

from datetime import date, timedelta

from bot import demo
from bot.runtime import Runtime
from bot.scheduler import run_round
from handlers.admin.retention import Sweeper
from handlers.admin.summary import Summary, build_summary
from handlers.periods import Period
from storage.models import (
    AuditEntry,
    Case,
    CaseEvent,
    Commendation,
    Evidence,
    NotifyToken,
    OutboxMessage,
    ProcessedUpdate,
    Rating,
    Report,
)
from tests.casework import (
    PHOTO,
    citizen,
    commend,
    file_report,
    officer,
    report_until_evidence,
)
from tests.conftest import Chat, Clock
from tests.dialogue import number_of

World = tuple[Runtime, list[tuple[str, str]]]
RETENTION, CLOSED_RETENTION = timedelta(days=730), timedelta(days=365)
YEARS = Period(date(2024, 1, 1), date(2027, 12, 31))


async def purges(chat: Chat) -> dict[str, list[int]]:
    """The purge audit rows, their counts per kind in order."""
    found: dict[str, list[int]] = {}
    for entry in await chat.rows(AuditEntry):
        if entry.action.startswith("purge_"):
            assert entry.actor == "system" and entry.allowed
            found.setdefault(entry.action, []).append(int(entry.detail or 0))
    return found


async def summary(rt: Runtime, clock: Clock) -> Summary:
    async with rt.sessions() as session:
        return await build_summary(
            session, YEARS, None, now=clock.now, min_sample=30, locale="vi", as_of=YEARS.end
        )


async def test_old_ratings_lose_comment_and_link_and_the_summaries_stay(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    await demo.seed(rt.sessions, ratings=400, reports=0, seed_value=3, now=clock.now)
    watcher = Chat(rt, output, "nobody")
    before = await summary(rt, clock)
    assert any(r.comment for r in await watcher.rows(Rating))
    sweeper = Sweeper(batch=50)  # several batches, one audit row

    clock.advance(days=550)  # ratings of the first half of the seeded year are now too old
    await run_round(rt.engine, sweeper)
    cutoff = clock.now - RETENTION
    old = [r for r in await watcher.rows(Rating) if r.created_at < cutoff]
    young = [r for r in await watcher.rows(Rating) if r.created_at >= cutoff]
    assert old and young
    assert all(r.comment is None and r.citizen_id is None for r in old)
    assert all(r.citizen_id is not None for r in young)
    assert (await purges(watcher))["purge_rating_links"] == [len(old)]
    assert await summary(rt, clock) == before

    clock.advance(days=90)  # the next rounds look at what aged since
    await run_round(rt.engine, sweeper)
    await run_round(rt.engine, sweeper)
    cutoff = clock.now - RETENTION
    rows = await watcher.rows(Rating)
    assert all(r.citizen_id is None for r in rows if r.created_at < cutoff)
    newly = sum(1 for r in young if r.created_at < cutoff)
    assert (await purges(watcher))["purge_rating_links"] == [len(old), newly]
    assert await summary(rt, clock) == before


async def test_commendation_texts_go_after_the_retention_and_still_count(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    reporter = await citizen(rt, output, "citizen-1")
    await commend(reporter, "Cán bộ hướng dẫn tận tình.")
    counted = (await summary(rt, clock)).commendations
    clock.advance(days=729)
    await run_round(rt.engine, Sweeper())
    assert (await reporter.rows(Commendation))[0].text is not None
    clock.advance(days=2)
    await run_round(rt.engine, Sweeper())
    [kept] = await reporter.rows(Commendation)
    assert kept.text is None and kept.citizen_id is None
    assert (await purges(reporter))["purge_commendations"] == [1]
    assert (await summary(rt, clock)).commendations == counted


async def close_case(desk: Chat, case_id: int) -> None:
    out = await desk.say(f"/case {case_id}")
    out = await desk.say(number_of(out, "Tiếp nhận"))
    out = await desk.say(number_of(out, "Kết thúc"))
    await desk.say("Trùng với phản ánh đã xử lý.")


async def test_closed_cases_lose_texts_contacts_and_files_and_open_ones_keep_them(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    desk = await officer(rt, output, "leader-mc", "615-MC", "leader")
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter, photo=True, named=("Lê Văn Hùng", "0905123456"))
    [closed] = await reporter.rows(Case)
    await close_case(desk, closed.id or 0)
    clock.advance(days=300)
    await file_report(reporter, photo=True, named=("Lê Văn Hùng", "0905123456"))

    clock.advance(days=64)  # closed 364 days ago: everything is still there
    await run_round(rt.engine, Sweeper())
    assert all(r.description for r in await reporter.rows(Report))
    assert "purge_closed_cases" not in await purges(reporter)

    clock.advance(days=2)
    counted = (await summary(rt, clock)).cases
    await run_round(rt.engine, Sweeper())
    gone, still = sorted(await reporter.rows(Report), key=lambda r: r.id or 0)
    assert (gone.description, gone.official_description) == (None, None)
    assert (gone.contact_name, gone.contact_phone, gone.citizen_id) == (None, None, None)
    assert still.description and still.contact_phone == "0905123456" and still.citizen_id
    assert [e.report_id for e in await reporter.rows(Evidence)] == [still.id]
    events = await reporter.rows(CaseEvent)
    assert all(e.text is None for e in events if e.case_id == closed.id)
    [after] = [c for c in await reporter.rows(Case) if c.id == closed.id]
    assert after.outcome_note is None and after.state == "closed"
    assert (await purges(reporter))["purge_closed_cases"] == [1]
    assert (await summary(rt, clock)).cases == counted

    await run_round(rt.engine, Sweeper())  # a new process sweeps the past again: no recount
    assert (await purges(reporter))["purge_closed_cases"] == [1]


async def test_sent_messages_and_update_ids_are_purged_and_counted(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    reporter = await citizen(rt, output, "citizen-1")
    await run_round(rt.engine, Sweeper())
    assert await purges(reporter) == {}, "nothing purged, nothing written"
    sent = len(await reporter.rows(OutboxMessage))
    seen = len(await reporter.rows(ProcessedUpdate))
    clock.advance(days=31)
    await run_round(rt.engine, Sweeper())
    assert await reporter.rows(OutboxMessage) == []
    assert await reporter.rows(ProcessedUpdate) == []
    assert await purges(reporter) == {
        "purge_sent_messages": [sent],
        "purge_processed_updates": [seen],
    }


async def test_files_of_a_report_never_sent_go_after_a_day(runtime: World, clock: Clock) -> None:
    rt, output = runtime
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter, photo=True)
    await report_until_evidence(reporter)
    assert "Đã nhận tệp thứ 1" in await reporter.send_photo(PHOTO)
    clock.advance(hours=23)
    await run_round(rt.engine, Sweeper())
    assert len(await reporter.rows(Evidence)) == 2, "a day to finish the report"
    clock.advance(hours=2)
    await run_round(rt.engine, Sweeper())
    [kept] = await reporter.rows(Evidence)
    assert kept.report_id is not None, "the sent report keeps its file"
    assert (await purges(reporter))["purge_abandoned_files"] == [1]


async def test_buttons_of_old_notifications_go_after_a_month(runtime: World, clock: Clock) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader-1", "615-MC", "leader")
    await file_report(await citizen(rt, output, "citizen-1"))
    [sent] = [t.token for t in await leader.rows(NotifyToken) if t.chat_ref == leader.ref()]
    clock.advance(days=29)
    await run_round(rt.engine, Sweeper())
    assert sent in {t.token for t in await leader.rows(NotifyToken)}, "a month to press them"
    clock.advance(days=2)
    await run_round(rt.engine, Sweeper())
    assert sent not in {t.token for t in await leader.rows(NotifyToken)}
    assert (await purges(leader))["purge_notification_buttons"][0] >= 1
