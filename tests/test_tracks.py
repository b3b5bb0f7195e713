"""Outcomes and tracks: the answer to the reporter apart from the personnel track, an extension
told to the reporter, copies to the Inspectorate, and what the reporter sees of who handles the
report and by when."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.exports import ExportRequest, open_tables, write_export
from bot.runtime import Runtime
from handlers.clock import LOCAL_ZONE
from handlers.periods import Period
from storage.models import Assignment, Case
from tests.casework import (
    citizen,
    decide,
    file_report,
    officer,
    report_until_evidence,
)
from tests.conftest import Chat, Clock
from tests.dialogue import number_of
from tests.test_charts_exports import _all_text

World = tuple[Runtime, list[tuple[str, str]]]
DESK = "Bộ phận Một cửa huyện Đắk Hà"
DISTRICT = "Ủy ban nhân dân huyện Đắk Hà"


@pytest.fixture
async def desk_leader(runtime: World) -> Chat:
    return await officer(*runtime, "leader-mc", "615-MC", "leader")


@pytest.fixture
async def intake(runtime: World) -> Chat:
    return await officer(*runtime, "intake", "62-SNV", "admin")


@pytest.fixture
async def inspector(runtime: World) -> Chat:
    return await officer(*runtime, "inspector", "62-TTR", "leader")


@pytest.fixture
async def reporter(runtime: World) -> Chat:
    return await citizen(*runtime, "citizen-1")


async def acknowledged_card(leader: Chat, case_id: int | None) -> str:
    out = await leader.say(f"/case {case_id}")
    return await leader.say(number_of(out, "Tiếp nhận"))


async def record_measure(
    leader: Chat, card: str, measure: str, post: str | None, day: str, number: str
) -> str:
    out = await leader.say(number_of(card, "Biện pháp đối với công chức"))
    out = await leader.say(number_of(out, measure))
    if post is not None:
        out = await leader.say(post)
    out = await leader.say(day)
    out = await leader.say(number)
    return await leader.say(number_of(out, "Xác nhận"))


async def test_a_personnel_measure_has_its_own_track_apart_from_the_answer(
    runtime: World, reporter: Chat, desk_leader: Chat, intake: Chat, tmp_path: Path
) -> None:
    receipt = await file_report(reporter)
    [case] = await reporter.rows(Case)
    card = await acknowledged_card(desk_leader, case.id)
    heard_before = len(reporter.received())
    out = await record_measure(
        desk_leader,
        card,
        "Tạm thời bố trí không tiếp xúc",
        "Công việc văn phòng, không tiếp dân",
        "1/12/2026",
        "15/QĐ-UBND",
    )
    assert "Đã ghi nhận biện pháp" in out
    assert f"Hồ sơ #{case.id}" in out, "back on the card: the answer is still to come"
    [moved] = await reporter.rows(Assignment)
    assert (moved.measure, moved.case_id, moved.decision_number) == (
        "suspend",
        case.id,
        "15/QĐ-UBND",
    )
    assert moved.effective_on == date(2026, 12, 1)
    [told] = [m for m in intake.received() if "15/QĐ-UBND" in m]
    assert f"Hồ sơ #{case.id}: Tạm thời bố trí không tiếp xúc" in told and "Phạm Văn Thắng" in told
    assert len(reporter.received()) == heard_before, "the reporter is not told of measures"
    after = await reporter.rows(Case)
    assert after[0].state == "acknowledged" and after[0].decide_due == case.decide_due

    await decide(desk_leader, case.id or 0, "Phản ánh có cơ sở, đã chấn chỉnh")
    card = await desk_leader.say(f"/case {case.id}")
    out = await record_measure(
        desk_leader, card, "Đề nghị xem xét xử lý kỷ luật", None, "20/1/2027", "03/TTr-UBND"
    )
    assert "Đã ghi nhận biện pháp" in out, "the personnel track goes on after the answer"
    measures = sorted(a.measure for a in await reporter.rows(Assignment))
    assert measures == ["discipline", "suspend"]
    status = await reporter.say(f"/status {receipt}")
    assert "Biện pháp" not in status and "15/QĐ" not in status and "kỷ luật" not in status

    export = tmp_path / "measures.zip"
    tables = open_tables(export, "csv")
    request = ExportRequest(Period(date(2026, 11, 1), date(2026, 12, 31)), None, False, "vi")
    await write_export(runtime[0].sessions, tables, request)
    tables.close()
    exported = _all_text(export, "csv")
    assert "Tạm thời bố trí không tiếp xúc" in exported and "03/TTr-UBND" in exported


async def test_a_deadline_is_extended_once_by_at_most_the_setting_and_the_reporter_is_told(
    reporter: Chat, desk_leader: Chat
) -> None:
    receipt = await file_report(reporter)
    [case] = await reporter.rows(Case)
    assert case.decide_due.astimezone(LOCAL_ZONE).date() == date(2026, 12, 14)
    card = await acknowledged_card(desk_leader, case.id)
    out = await desk_leader.say(number_of(card, "Gia hạn thời gian giải quyết"))
    assert "từ 1 đến 10" in out
    for wrong in ("11", "-2", "mười"):
        refused = await desk_leader.say(wrong)
        assert "từ 1 đến 10" in refused
    await desk_leader.say("5")
    out = await desk_leader.say("Cần xác minh thêm với Phòng Tư pháp huyện.")
    assert "hạn trả lời mới: 21/12/2026" in out
    assert "Gia hạn thời gian giải quyết" not in out, "once only"
    [extended] = await reporter.rows(Case)
    assert extended.extended_days == 5
    assert extended.decide_due.astimezone(LOCAL_ZONE).date() == date(2026, 12, 21)
    news = reporter.received()[-1]
    assert "gia hạn thời gian giải quyết thêm 5 ngày làm việc, đến 21/12/2026" in news
    assert "Lý do: Cần xác minh thêm với Phòng Tư pháp huyện." in news
    status = await reporter.say(f"/status {receipt}")
    assert f"Cơ quan xử lý: {DESK}. Hạn trả lời (đã gia hạn): 21/12/2026" in status
    assert "Cơ quan gia hạn thời gian giải quyết — Cần xác minh thêm" in status


async def test_no_extension_once_the_deadline_to_answer_has_passed(
    reporter: Chat, desk_leader: Chat, clock: Clock
) -> None:
    await file_report(reporter)
    [case] = await reporter.rows(Case)
    await acknowledged_card(desk_leader, case.id)
    clock.advance(days=15)
    card = await desk_leader.say(f"/case {case.id}")
    assert "Gia hạn thời gian giải quyết" not in card
    assert (await reporter.rows(Case))[0].extended_days is None


@pytest.mark.parametrize(
    ("category", "threatened"), [("Đòi, gợi ý đưa tiền", False), ("Sách nhiễu", True)]
)
async def test_bribe_and_threat_cases_are_copied_to_the_inspectorate_which_only_reads(
    runtime: World,
    reporter: Chat,
    desk_leader: Chat,
    inspector: Chat,
    category: str,
    threatened: bool,
) -> None:
    await file_report(
        reporter, category=category, threatened=threatened, named=("Lê Thị Mai", "0905123456")
    )
    await file_report(await citizen(*runtime, "citizen-2"))
    flagged, plain = sorted(await reporter.rows(Case), key=lambda c: c.id or 0)
    assert flagged.flagged and flagged.agency_id != plain.copied_to
    assert any(
        f"Bản sao gửi Thanh tra: hồ sơ phản ánh #{flagged.id}" in m for m in inspector.received()
    )
    listed = await inspector.say("/cases")
    assert f"#{flagged.id}" in listed and f"#{plain.id}" not in listed
    card = await inspector.say(f"/case {flagged.id}")
    assert "Lê Thị Mai – 0905123456" in card, "as an agency the case was transferred to sees it"
    for action in ("Tiếp nhận", "Ra kết quả xử lý", "Chuyển cơ quan khác", "Gia hạn"):
        assert action not in card
    assert "không có quyền" in await inspector.say(f"/case {plain.id}")
    assert "Tiếp nhận" in await desk_leader.say(f"/case {flagged.id}"), "the desk still handles it"


async def test_the_reporter_sees_the_handling_agency_and_deadline(
    runtime: World, reporter: Chat
) -> None:
    receipt = await file_report(reporter)
    [received] = [m for m in reporter.received() if receipt in m]
    assert f"Cơ quan xử lý: {DESK}. Hạn trả lời: 14/12/2026" in received
    second = await file_report(reporter, official="Phạm Trọng Đạt")
    [received] = [m for m in reporter.received() if second in m]
    assert f"Cơ quan xử lý: {DISTRICT}. Hạn trả lời: 14/12/2026" in received
    status = await reporter.say(f"/status {receipt}")
    assert f"Cơ quan xử lý: {DESK}. Hạn trả lời: 14/12/2026" in status


@pytest.mark.parametrize(
    ("official", "described", "body"),
    [
        ("Phạm Văn Thắng", None, DISTRICT),
        ("Phạm Trọng Đạt", None, DISTRICT),
        ("", "Người ngồi quầy số 2", DISTRICT),
    ],
)
async def test_the_denunciation_notice_names_the_head_of_the_managing_body_and_the_complaint_route(
    reporter: Chat, official: str, described: str | None, body: str
) -> None:
    await report_until_evidence(reporter, official=official, described=described)
    out = await reporter.say("tiếp tục")
    out = await reporter.say(number_of(out, "Ẩn danh"))
    assert f"gửi đơn đến người đứng đầu {body} (cơ quan quản lý người bị phản ánh)" in out
    assert "không phải đơn tố cáo (Luật Tố cáo năm 2018)" in out
    assert "Khiếu nại" in out and "trong vòng 90 ngày" in out
