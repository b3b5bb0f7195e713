"""Safeguards found in review: each test is a way the bot once went wrong."""

from __future__ import annotations

import time
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.exports import ExportRequest, open_tables, write_export
from bot.runtime import Runtime
from bot.scheduler import run_round
from handlers.admin.retention import Sweeper
from handlers.messages import ConversationKey, Incoming
from handlers.periods import Period
from storage.models import Case, CaseEvent, Officer, OutboxMessage, Review
from tests.casework import citizen, file_report, officer
from tests.conftest import Chat, Clock
from tests.dialogue import number_of

World = tuple[Runtime, list[tuple[str, str]]]


async def test_a_long_read_does_not_hold_up_the_turns(runtime: World) -> None:
    """Exports and charts read through their own engine; a turn must not wait for them."""
    rt, output = runtime
    async with rt.reads() as reading:
        await reading.execute(text("SELECT count(*) FROM rating"))
        started = time.perf_counter()
        out = await Chat(rt, output, "citizen-x").say("/start")
        assert "dữ liệu cá nhân" in out
        assert time.perf_counter() - started < 5


async def test_two_leaders_deciding_one_case_record_one_decision(runtime: World) -> None:
    rt, output = runtime
    first = await officer(rt, output, "leader-a", "615-MC", "leader")
    second = await officer(rt, output, "leader-b", "615-MC", "leader")
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter)
    [case] = await reporter.rows(Case)
    card_a = await first.say(f"/case {case.id}")
    card_a = await first.say(number_of(card_a, "Tiếp nhận"))
    card_b = await second.say(f"/case {case.id}")
    confirmations = {}
    for leader, card in ((first, card_a), (second, card_b)):
        out = await leader.say(number_of(card, "Ra kết quả xử lý"))
        out = await leader.say(number_of(out, "Phản ánh có cơ sở, đã chấn chỉnh"))
        confirmations[leader.chat_id] = await leader.say("Đã chấn chỉnh.")
    await second.say(number_of(confirmations["leader-b"], "Xác nhận"))
    out = await first.say(number_of(confirmations["leader-a"], "Xác nhận"))
    assert "không thực hiện được" in out and "“Đã có kết quả xử lý”" in out
    assert [e.action for e in await reporter.rows(CaseEvent)].count("decide") == 1
    decided = [m for m in reporter.received() if "đã có kết quả xử lý" in m]
    assert len(decided) == 1


async def test_notification_options_are_not_numbered_where_there_are_no_buttons(
    runtime: World,
) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader-mc", "615-MC", "leader")
    reporter = await citizen(rt, output, "citizen-1")
    receipt = await file_report(reporter)
    [case] = await reporter.rows(Case)
    await reporter.say("/start r_615-MC_CHUNG-THUC")
    out = await leader.say(f"/case {case.id}")
    out = await leader.say(number_of(out, "Tiếp nhận"))
    out = await leader.say(number_of(out, "Hỏi người phản ánh"))
    await leader.say("Ông/Bà đến quầy nào?")
    question = reporter.received()[-1]
    assert "quầy nào" in question and f"/status {receipt}" in question
    assert "1. Trả lời" not in question
    out = await reporter.say("4")
    assert "Yếu tố 2/5" in out, "the typed number answered the rating, as the screen suggests"


async def test_a_decided_review_is_not_reopened_by_the_same_reports(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader-615", "615", "leader")
    people = [await citizen(rt, output, f"c-{n}") for n in range(4)]
    for person in people[:3]:
        await file_report(person)
    [review] = await leader.rows(Review)
    out = await leader.say(f"/review {review.id}")
    assert "Xem xét bố trí công tác khác" in out
    out = await leader.say(number_of(out, "Không bố trí"))
    await leader.say("Đã kiểm tra, phản ánh không có cơ sở.")
    clock.advance(days=1)
    await file_report(people[0])
    assert len(await leader.rows(Review)) == 1
    for person in people[1:]:
        await file_report(person)
    assert len(await leader.rows(Review)) == 2, "three new reporters after the decision"


async def test_an_officer_exports_neither_reports_about_themselves_nor_pseudonyms(
    runtime: World, tmp_path: Path
) -> None:
    rt, output = runtime
    await officer(rt, output, "thang", "615-MC", "leader", "615-MC-CV1")
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter)
    await file_report(reporter, official="Nguyễn Văn Định")
    [me] = await reporter.rows(Officer)
    path = tmp_path / "x.zip"
    tables = open_tables(path, "csv")
    year = Period(date(2026, 1, 1), date(2026, 12, 31))
    request = ExportRequest(
        year, [me.agency_id], False, "vi", pseudonyms=False, hidden_official=me.official_id
    )
    await write_export(rt.reads, tables, request)
    tables.close()
    with zipfile.ZipFile(path) as archive:
        reports = archive.read("Phản ánh.csv").decode("utf-8-sig")
        everything = "".join(archive.read(n).decode("utf-8-sig") for n in archive.namelist())
    assert "Nguyễn Văn Định" in reports and "Phạm Văn Thắng" not in reports
    assert "p-" not in everything


async def test_a_card_is_never_redrawn_for_someone_who_lost_access(runtime: World) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader-mc", "615-MC", "leader")
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter, named=("Trần Văn Lộc", "0905111222"))
    [case] = await reporter.rows(Case)
    assert "Trần Văn Lộc" in await leader.say(f"/case {case.id}")
    async with rt.sessions() as session, session.begin():
        moved = await session.get(Case, case.id)
        assert moved is not None
        moved.agency_id = 2
    for command in ("/resume", "/help", "/language"):
        assert "Trần Văn Lộc" not in await leader.say(command)


async def test_cases_open_only_in_the_officers_private_chat(runtime: World) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader-mc", "615-MC", "leader")
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter)
    [case] = await reporter.rows(Case)
    group = Chat(rt, output, "agency-group")
    out = await group.send(
        Incoming(
            key=ConversationKey("console", "agency-group"),
            update_id="g-1",
            user_id=leader.chat_id,
            command="case",
            command_args=str(case.id),
        )
    )
    assert "chỉ được mở trong cuộc trò chuyện riêng" in out
    assert "Phạm Văn Thắng" not in out


async def test_sent_messages_are_purged_and_forget_removes_them_at_once(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    reporter = await citizen(rt, output, "citizen-1")
    await file_report(reporter, named=("Trần Văn Lộc", "0905111222"))
    other = await citizen(rt, output, "citizen-2")
    mine = [r for r in await reporter.rows(OutboxMessage) if r.chat_ref == reporter.ref()]
    assert any("0905111222" in str(r.payload) for r in mine)
    out = await reporter.say("/forget")
    await reporter.say(number_of(out, "Xóa dữ liệu"))
    left = [r for r in await reporter.rows(OutboxMessage) if r.chat_ref == reporter.ref()]
    assert not any("0905111222" in str(r.payload) for r in left)
    assert any(r.chat_ref == other.ref() for r in await other.rows(OutboxMessage))
    clock.advance(days=8)
    await run_round(rt.engine, Sweeper())
    assert await other.rows(OutboxMessage) == []


async def test_a_mistyped_officer_command_keeps_a_half_finished_report(chat: Chat) -> None:
    await chat.say("/start")
    await chat.say("1")
    out = await chat.say("/report")
    out = await chat.say(number_of(out, "Sách nhiễu"))
    for command in ("/join WRONGCODE", "/case 99", "/cases"):
        out = await chat.say(command)
        assert "Việc xảy ra tại cơ quan nào" in out, command
    out = await chat.say("dak ha")
    assert "Xin chọn cơ quan" in out


async def test_a_new_invite_moves_and_promotes_the_same_officer(runtime: World) -> None:
    rt, output = runtime
    first = await officer(rt, output, "person", "615-MC", "officer")
    again = await officer(rt, output, "person", "62-SNV", "admin")
    rows = await again.rows(Officer)
    assert [(o.role, o.active) for o in rows] == [("admin", True)]
    del first


async def test_a_decided_case_cannot_be_closed_before_the_reporter_answers(
    runtime: World,
) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader-mc", "615-MC", "leader")
    reporter = await citizen(rt, output, "citizen-1")
    receipt = await file_report(reporter)
    [case] = await reporter.rows(Case)
    out = await leader.say(f"/case {case.id}")
    out = await leader.say(number_of(out, "Tiếp nhận"))
    out = await leader.say(number_of(out, "Ra kết quả xử lý"))
    out = await leader.say(number_of(out, "Phản ánh có cơ sở một phần"))
    out = await leader.say("Đã nhắc nhở.")
    await leader.say(number_of(out, "Xác nhận"))
    card = await leader.say(f"/case {case.id}")
    assert "Kết thúc" not in card.split("Diễn biến")[-1]
    out = await reporter.say(f"/status {receipt}")
    assert "Chưa được giải quyết" in out


@pytest.mark.parametrize("text_length", [4096, 9000])
async def test_long_telegram_texts_are_split(text_length: int) -> None:
    from bot.channels.base import split_text
    from bot.channels.telegram import TEXT_LIMIT

    body = "\n".join(f"Dòng {n}: " + "x" * 60 for n in range(text_length // 70))
    parts = split_text(body, TEXT_LIMIT)
    assert all(len(p) <= TEXT_LIMIT for p in parts)
    assert (len(parts) > 1) == (len(body) > TEXT_LIMIT)


def test_photos_lose_their_metadata() -> None:
    import io

    from PIL import Image

    from handlers.citizen.privacy import without_metadata

    exif = Image.Exif()
    exif[0x010F] = "Điện thoại của người phản ánh"  # Make
    exif[0x9003] = "2026:11:30 09:00:00"  # DateTimeOriginal
    original = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(original, format="JPEG", exif=exif)
    assert Image.open(io.BytesIO(original.getvalue())).getexif()
    cleaned = without_metadata(original.getvalue(), "image/jpeg")
    with Image.open(io.BytesIO(cleaned)) as image:
        assert not image.getexif()
        assert image.size == (8, 8)
    assert without_metadata(b"%PDF-1.4 ...", "application/pdf") == b"%PDF-1.4 ..."
    assert without_metadata(b"not an image", "image/png") == b"not an image"


async def test_a_number_no_record_can_have_reads_as_not_found(runtime: World) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader", "615-MC")
    for number in ("99999999999999999999999", "2147483648", "0", "٣", "9" * 5000):
        out = await leader.say(f"/case {number}")
        assert "Hồ sơ không tồn tại" in out, number
        out = await leader.say(f"/review {number}")
        assert "không có quyền thực hiện thao tác này" in out, number
    assert "lỗi" not in "".join(text for _, text in output)


async def test_an_unknown_code_is_quoted_back_briefly(runtime: World) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader", "615-MC")
    out = await leader.say("/officers " + "X" * 100_000)
    assert "Không có cơ quan mã XXXX" in out and len(out) < 2_000
