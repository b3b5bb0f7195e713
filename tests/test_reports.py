"""Reports reach the body responsible, which must decide: dialogues with several parties."""

from __future__ import annotations

import re
from datetime import date
from typing import TypeVar

import pytest
from sqlmodel import SQLModel

from bot.runtime import Runtime
from handlers.citizen.receipts import ALPHABET
from handlers.clock import LOCAL_ZONE
from storage.models import (
    Assignment,
    AuditEntry,
    Case,
    CaseEvent,
    Citizen,
    Commendation,
    Evidence,
    Officer,
    Rating,
    Report,
    Review,
)
from tests.casework import (
    CARD_ACTIONS,
    PHOTO,
    citizen,
    decide,
    file_report,
    invite_code,
    officer,
)
from tests.conftest import Chat, Clock
from tests.dialogue import number_of

World = tuple[Runtime, list[tuple[str, str]]]
Row = TypeVar("Row", bound=SQLModel)


@pytest.fixture
async def desk_leader(runtime: World) -> Chat:
    return await officer(*runtime, "leader-mc", "615-MC", "leader")


@pytest.fixture
async def intake(runtime: World) -> Chat:
    return await officer(*runtime, "intake", "62-SNV", "admin")


@pytest.fixture
async def reporter(runtime: World) -> Chat:
    return await citizen(*runtime, "citizen-1")


async def only(chat: Chat, model: type[Row]) -> Row:
    rows = await chat.rows(model)
    assert len(rows) == 1, rows
    return rows[0]


async def test_an_anonymous_report_reaches_the_desk_leadership_and_intake(
    runtime: World, reporter: Chat, desk_leader: Chat, intake: Chat
) -> None:
    named_official = await officer(*runtime, "thang", "615-MC", "officer", "615-MC-CV1")
    receipt = await file_report(reporter, photo=True)
    raw = receipt.replace("-", "")
    assert len(raw) == 12 and set(raw) <= set(ALPHABET)

    report = await only(reporter, Report)
    case = await only(reporter, Case)
    assert report.anonymous and report.contact_name is None
    assert case.state == "new" and not case.flagged
    evidence = await only(reporter, Evidence)
    assert evidence.content == PHOTO and evidence.report_id == report.id

    assert any("Hồ sơ phản ánh mới #" in m for m in desk_leader.received())
    assert any("Hồ sơ phản ánh mới #" in m for m in intake.received())
    assert not any("Hồ sơ" in m for m in named_official.received())


async def test_a_report_about_the_head_of_the_desk_goes_one_level_up(
    runtime: World, reporter: Chat, desk_leader: Chat
) -> None:
    district_leader = await officer(*runtime, "leader-615", "615", "leader")
    await file_report(reporter, official="Phạm Trọng Đạt")
    case = await only(reporter, Case)
    async with reporter.runtime.sessions() as session:
        from storage.agencies import agency_by_code

        district = await agency_by_code("615", session=session)
    assert district is not None
    assert case.agency_id == district.id
    assert any("Hồ sơ phản ánh mới" in m for m in district_leader.received())
    assert not any("Hồ sơ phản ánh mới" in m for m in desk_leader.received())


@pytest.mark.parametrize(
    ("category", "threatened", "reason"),
    [
        ("Đòi, gợi ý đưa tiền, quà", False, "bribe"),
        ("Sách nhiễu", True, "threat"),
        ("Sách nhiễu", False, None),
    ],
)
async def test_bribes_and_threats_are_flagged_at_once(
    reporter: Chat, desk_leader: Chat, category: str, threatened: bool, reason: str | None
) -> None:
    await file_report(reporter, category=category, threatened=threatened)
    case = await only(reporter, Case)
    assert case.flag_reason == reason
    assert case.flagged is (reason is not None)
    alert = "⚠️ Hồ sơ phản ánh mới" in "\n".join(desk_leader.received())
    assert alert is (reason is not None)


async def test_the_whole_case_from_report_to_answer(
    runtime: World, reporter: Chat, desk_leader: Chat
) -> None:
    receipt = await file_report(reporter, photo=True)
    case = await only(reporter, Case)

    out = await desk_leader.say(f"/case {case.id}")
    assert f"Hồ sơ #{case.id}" in out and "Phạm Văn Thắng" in out
    out = await desk_leader.say(number_of(out, "Xem bằng chứng"))
    assert "image/jpeg" in out
    out = await desk_leader.say(number_of(out, "Tiếp nhận"))
    assert "Cơ quan đã tiếp nhận" in out
    assert any("đã được cơ quan có thẩm quyền tiếp nhận" in m for m in reporter.received())

    out = await desk_leader.say(number_of(out, "Hỏi người phản ánh"))
    out = await desk_leader.say("Ông/Bà đến quầy số mấy và vào giờ nào?")
    assert "Câu hỏi đã được gửi" in out
    assert any("Ông/Bà đến quầy số mấy" in m for m in reporter.received())

    out = await reporter.say(f"/status {receipt.lower()}")
    assert "Chờ người phản ánh trả lời" in out
    out = await reporter.say(number_of(out, "Trả lời câu hỏi"))
    out = await reporter.say("Quầy số 3, khoảng 9 giờ sáng.")
    assert "Câu trả lời đã được chuyển" in out
    assert any("Quầy số 3, khoảng 9 giờ sáng." in m for m in desk_leader.received())

    out = await desk_leader.say(f"/case {case.id}")
    out = await desk_leader.say(number_of(out, "Ra kết quả xử lý"))
    out = await desk_leader.say(number_of(out, "Phản ánh có cơ sở, đã chấn chỉnh"))
    out = await desk_leader.say("Đã kiểm điểm công chức và chấn chỉnh việc tiếp nhận hồ sơ.")
    assert "Nội dung trả lời: Đã kiểm điểm" in out
    out = await desk_leader.say(number_of(out, "Xác nhận"))
    assert "Đã ghi nhận kết quả" in out

    news = "\n".join(reporter.received())
    assert "đã có kết quả xử lý: Phản ánh có cơ sở, đã chấn chỉnh" in news
    out = await reporter.say(f"/status {receipt}")
    out = await reporter.say(number_of(out, "Đã được giải quyết"))
    assert "Phản ánh được kết thúc" in out

    case = await only(reporter, Case)
    assert case.state == "closed"
    assert await reporter.rows(Assignment) == [], "the answer records no personnel measure"
    actions = [e.action for e in await reporter.rows(CaseEvent)]
    assert actions == ["open", "acknowledge", "ask", "answer", "decide", "confirm"]


async def test_not_resolved_reopens_within_the_window_only(
    reporter: Chat, desk_leader: Chat, clock: object
) -> None:
    receipt = await file_report(reporter)
    case = await only(reporter, Case)
    await decide(desk_leader, case.id or 0, "Phản ánh không có cơ sở")
    out = await reporter.say(f"/status {receipt}")
    out = await reporter.say(number_of(out, "Chưa được giải quyết"))
    assert "được mở lại" in out
    assert any("chưa được giải quyết; hồ sơ được mở lại" in m for m in desk_leader.received())
    out = await desk_leader.say(f"/case {case.id}")
    out = await desk_leader.say(number_of(out, "Tiếp nhận"))
    await decide(desk_leader, case.id or 0, "Phản ánh không có cơ sở")
    clock.advance(days=15)  # type: ignore[attr-defined]
    out = await reporter.say(f"/status {receipt}")
    out = await reporter.say(number_of(out, "Chưa được giải quyết"))
    assert "Đã quá 14 ngày" in out


async def test_status_codes_cannot_be_probed(runtime: World, reporter: Chat) -> None:
    receipt = await file_report(reporter)
    stranger = await citizen(*runtime, "citizen-2")
    theirs = await stranger.say(f"/status {receipt}")
    missing = await stranger.say("/status ACDE-FGHJ-KMNP")
    garbage = await stranger.say("/status <script>")
    assert "Không tìm thấy phản ánh nào" in theirs
    assert theirs == missing == garbage
    mine = await reporter.say(f"/status {receipt}")
    assert "Chờ cơ quan tiếp nhận" in mine and "Phản ánh được gửi" in mine


async def test_evidence_limits_are_stated(reporter: Chat) -> None:
    out = await reporter.say("/report")
    out = await reporter.say(number_of(out, "Sách nhiễu"))
    out = await reporter.say("dak ha")
    out = await reporter.say(number_of(out, "Bộ phận Một cửa huyện Đắk Hà"))
    out = await reporter.say(number_of(out, "Phạm Văn Thắng"))
    out = await reporter.say(number_of(out, "Hôm qua"))
    out = await reporter.say("Cán bộ gây khó khăn, hẹn đi hẹn lại nhiều lần.")
    out = await reporter.say(number_of(out, "Không"))
    assert "tối đa 5 tệp, mỗi tệp không quá 10 MB" in out
    big = await reporter.send_photo(b"x" * (10 * 1024 * 1024 + 1))
    assert "không được vượt quá 10 MB" in big
    wrong = await reporter.send_photo(b"GIF89a", mime="image/gif")
    assert "Chỉ nhận JPG, PNG, WEBP hoặc PDF" in wrong
    for number in range(1, 6):
        assert f"Đã nhận tệp thứ {number}" in await reporter.send_photo(PHOTO)
    assert "tối đa 5 tệp" in await reporter.send_photo(PHOTO)
    assert len(await reporter.rows(Evidence)) == 5
    await reporter.say("/cancel")
    assert await reporter.rows(Evidence) == [], "an abandoned report leaves no files behind"


async def test_another_agencys_officer_cannot_see_or_act_and_is_audited(
    runtime: World, reporter: Chat, desk_leader: Chat
) -> None:
    await file_report(reporter)
    case = await only(reporter, Case)
    outsider = await officer(*runtime, "outsider", "611-MC", "leader")
    out = await outsider.say("/cases")
    assert "Không có hồ sơ nào" in out
    out = await outsider.say(f"/case {case.id}")
    assert "không có quyền" in out
    for forged in ("abc:acknowledge", "zz:a0"):
        await outsider.press(forged)
    citizen_try = await reporter.say(f"/case {case.id}")
    assert "không có quyền" in citizen_try
    [outsider_row] = [o for o in await reporter.rows(Officer) if o.chat_ref == outsider.ref()]
    refusals = [a for a in await reporter.rows(AuditEntry) if not a.allowed]
    citizen_actor = {a.actor for a in refusals} - {f"officer:{outsider_row.id}"}
    assert [a.split(":")[0] for a in citizen_actor] == ["console-user"]
    assert not any("citizen-1" in a for a in citizen_actor), "no messenger id in the log"
    assert {(a.action, a.case_id) for a in refusals} >= {("view", case.id)}
    assert (await only(reporter, Case)).state == "new"


async def test_three_distinct_citizens_open_one_review_two_do_not(
    runtime: World,
) -> None:
    home_leader = await officer(*runtime, "leader-615", "615", "leader")
    first, second, third = [await citizen(*runtime, f"c-{n}") for n in range(3)]
    await file_report(first)
    await file_report(first)
    await file_report(second)
    assert not any("Dư luận không tốt" in m for m in home_leader.received())
    await file_report(third)
    reviews = [m for m in home_leader.received() if "Dư luận không tốt" in m]
    assert len(reviews) == 1 and "3 người" in reviews[0] and "Phạm Văn Thắng" in reviews[0]
    [review] = await home_leader.rows(Review)
    assert review.due_at.astimezone(LOCAL_ZONE).date() == date(2026, 12, 7), "5 working days"
    assert "trước 07/12/2026 17:00" in reviews[0]
    fourth = await citizen(*runtime, "c-4")
    await file_report(fourth)
    assert len([m for m in home_leader.received() if "Dư luận không tốt" in m]) == 1


async def test_named_reports_show_the_name_to_the_agency_only(
    reporter: Chat, desk_leader: Chat
) -> None:
    await file_report(reporter, named=("Nguyễn Thị Hoa", "0912 345 678"))
    case = await only(reporter, Case)
    out = await desk_leader.say(f"/case {case.id}")
    assert "Nguyễn Thị Hoa – 0912345678" in out


async def test_a_low_rating_offers_a_report_with_the_agency_carried_over(
    reporter: Chat,
) -> None:
    out = await reporter.say("/start r_615-MC_CHUNG-THUC")
    for mark in ("4", "4", "1"):
        out = await reporter.say(mark)
    out = await reporter.say(number_of(out, "Không muốn nêu"))
    out = await reporter.say("4")
    for label in (
        "Bỏ qua",
        "Đúng hẹn",
        "Không",
        "1 lần",
        "Trực tiếp",
        "Không",
        "Không có góp ý",
        "Gửi đánh giá",
    ):
        out = await reporter.say(number_of(out, label))
    assert "Ông/Bà có muốn gửi phản ánh" in out
    out = await reporter.say(number_of(out, "Có, gửi phản ánh"))
    out = await reporter.say(number_of(out, "Thái độ"))
    assert "Người có hành vi cần phản ánh là ai?" in out, "the agency was carried over"
    assert "Phạm Văn Thắng" in out


async def test_commendations_reach_the_leadership_and_are_stored(
    reporter: Chat, desk_leader: Chat
) -> None:
    out = await reporter.say("/commend")
    out = await reporter.say("dak ha")
    out = await reporter.say(number_of(out, "Bộ phận Một cửa huyện Đắk Hà"))
    out = await reporter.say(number_of(out, "Nguyễn Văn Định"))
    out = await reporter.say("Hướng dẫn rất tận tình, chu đáo.")
    assert "đã được chuyển đến lãnh đạo" in out
    assert any("Nguyễn Văn Định" in m and "tận tình" in m for m in desk_leader.received())
    assert len(await reporter.rows(Commendation)) == 1
    summary = await desk_leader.say("/summary month")
    assert "Lời khen: 1." in summary


async def test_mydata_shows_and_forget_deletes(reporter: Chat, desk_leader: Chat) -> None:
    await reporter.say("/start r_615-MC_CHUNG-THUC")
    receipt = await file_report(reporter, named=("Nguyễn Thị Hoa", "0912345678"))
    out = await reporter.say("/mydata")
    assert "Số phản ánh đã gửi: 1" in out and receipt in out and "Nguyễn Thị Hoa" in out
    assert "mã ẩn danh" not in out, "a named report has no pseudonym"
    out = await reporter.say("/forget")
    out = await reporter.say(number_of(out, "Xóa dữ liệu"))
    assert "1 phản ánh đang xử lý được giữ lại" in out
    report = await only(reporter, Report)
    assert report.contact_name is None and report.contact_phone is None and report.anonymous
    assert await reporter.rows(Rating) == []
    assert len(await reporter.rows(Citizen)) == 1, "kept only to tell the outcome"


async def test_forget_without_open_reports_removes_the_person(chat: Chat) -> None:
    await chat.say("/start")
    await chat.say("1")
    out = await chat.say("/forget")
    out = await chat.say(number_of(out, "Xóa dữ liệu"))
    assert "đã được xóa" in out and "Thông báo về dữ liệu cá nhân" in out
    assert await chat.rows(Citizen) == []
    assert "không lưu thông tin nào" in await chat.say("/mydata")


def test_receipts_are_unguessable_and_never_sequential() -> None:
    from handlers.citizen.receipts import new_receipt, normalise_receipt

    codes = [new_receipt() for _ in range(2000)]
    assert len(set(codes)) == 2000
    assert all(re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", c) for c in codes)
    assert not set("01IOLSZB258") & set("".join(codes))
    assert normalise_receipt(codes[0].lower().replace("-", " ")) == codes[0]


@pytest.mark.parametrize("action", CARD_ACTIONS)
async def test_every_card_action_is_checked_again_on_the_server(
    runtime: World, reporter: Chat, desk_leader: Chat, action: str
) -> None:
    """The leader opened the card, then the case moved to another agency: each button of the
    old card is refused, audited, and changes nothing."""
    await file_report(reporter, photo=True)
    case = await only(reporter, Case)
    card = await desk_leader.say(f"/case {case.id}")
    if action != "Tiếp nhận":
        card = await desk_leader.say(number_of(card, "Tiếp nhận"))
    state = (await only(reporter, Case)).state
    async with reporter.runtime.sessions() as session, session.begin():
        moved = await session.get(Case, case.id)
        assert moved is not None
        moved.agency_id = 2
    out = await desk_leader.say(number_of(card, action))
    assert "không có quyền" in out
    assert (await only(reporter, Case)).state == state
    [refusal] = [a for a in await reporter.rows(AuditEntry) if not a.allowed]
    assert refusal.case_id == case.id
    assert not any("Bằng chứng" in m for m in desk_leader.received())


async def test_forged_buttons_of_officers_are_audited(desk_leader: Chat) -> None:
    assert await desk_leader.press("forged:acknowledge") == ""
    [entry] = await desk_leader.rows(AuditEntry)
    assert (entry.action, entry.allowed) == ("stale_or_forged_button", False)


async def test_what_officers_do_is_audited_under_their_own_name(
    runtime: World, desk_leader: Chat
) -> None:
    reporter = await citizen(*runtime, "citizen-1")
    await file_report(reporter)
    case = await only(reporter, Case)
    card = await desk_leader.say(f"/case {case.id}")
    await desk_leader.say(number_of(card, "Tiếp nhận"))
    [leader] = await desk_leader.rows(Officer)
    done = [
        (a.action, a.case_id, a.actor) for a in await desk_leader.rows(AuditEntry) if a.allowed
    ]
    assert done == [
        ("view", case.id, f"officer:{leader.id}"),
        ("acknowledge", case.id, f"officer:{leader.id}"),
    ], "one row per act: opening the card once, acknowledging once"


async def test_a_pick_from_the_list_opens_the_case_shown_though_a_new_one_came_first(
    runtime: World, reporter: Chat, desk_leader: Chat
) -> None:
    await file_report(reporter)
    [shown] = await reporter.rows(Case)
    listing = await desk_leader.say("/cases")
    assert f"#{shown.id} ·" in listing
    await file_report(await citizen(*runtime, "citizen-2"), category="Đòi, gợi ý đưa tiền, quà")
    assert f"⚠️ #{shown.id + 1} ·" in await desk_leader.say("/cases"), "flagged first"
    await desk_leader.say("/cancel")
    await desk_leader.say("/cases")
    await file_report(await citizen(*runtime, "citizen-3"), category="Đòi, gợi ý đưa tiền, quà")
    out = await desk_leader.say("2")
    assert f"Hồ sơ #{shown.id}" in out, "the second line shown, not the second line now"


async def test_an_invite_works_once_and_not_after_it_expires(runtime: World, clock: Clock) -> None:
    rt, output = runtime
    code = await invite_code(rt, "615-MC", "officer")
    assert "đã tham gia" in await Chat(rt, output, "first").say(f"/join {code}")
    refused = await Chat(rt, output, "second").say(f"/join {code}")
    assert "Mã mời không hợp lệ" in refused
    stale = await invite_code(rt, "615-MC", "officer")
    clock.advance(days=8)
    assert "Mã mời không hợp lệ" in await Chat(rt, output, "late").say(f"/join {stale}")
    assert len(await Chat(rt, output, "first").rows(Officer)) == 1


async def test_citizens_list_their_own_reports_and_add_information(
    runtime: World, reporter: Chat, desk_leader: Chat
) -> None:
    receipt = await file_report(reporter)
    case = await only(reporter, Case)
    stranger = await citizen(*runtime, "citizen-2")
    assert "chưa gửi phản ánh nào" in await stranger.say("/myreports")

    out = await reporter.say("/myreports")
    assert f"{receipt} – " in out
    out = await reporter.say(number_of(out, receipt))
    out = await reporter.say(number_of(out, "Bổ sung thông tin"))
    out = await reporter.say("Ngày 30/11 tôi đã nộp đủ hồ sơ theo phiếu hẹn.")
    assert "Thông tin bổ sung đã được chuyển đến cơ quan xử lý" in out
    assert any(
        f"bổ sung thông tin cho hồ sơ #{case.id}" in m and "nộp đủ hồ sơ" in m
        for m in desk_leader.received()
    )
    actions = [e.action for e in await reporter.rows(CaseEvent)]
    assert "add_info" in actions


async def test_only_admins_invite_and_announce_in_chat(
    runtime: World, reporter: Chat, desk_leader: Chat
) -> None:
    for chat, command in (
        (desk_leader, "/invite 615-MC officer"),
        (desk_leader, "/announce Thông báo thử"),
        (reporter, "/invite 615-MC admin"),
        (reporter, "/announce Thông báo thử"),
    ):
        assert "không có quyền" in await chat.say(command), command
    refused = [a.action for a in await reporter.rows(AuditEntry) if not a.allowed]
    assert sorted(refused) == ["announce", "announce", "invite", "invite"]

    admin = await officer(*runtime, "admin-snv", "62-SNV", "admin")
    assert "Cú pháp: /invite" in await admin.say("/invite KHONG-CO")
    out = await admin.say("/invite 615-MC leader")
    [code] = re.findall(r"/join (\S+) cho bot", out)
    new_leader = Chat(*runtime, "new-leader")
    assert "đã tham gia" in await new_leader.say(f"/join {code}")
    roles = {o.chat_ref: o.role for o in await admin.rows(Officer)}
    assert roles[new_leader.ref()] == "leader"


async def test_an_official_described_in_words_reaches_the_card(
    reporter: Chat, desk_leader: Chat
) -> None:
    await file_report(reporter, described="Chị Hoa, quầy số 3, tiếp nhận hồ sơ đất đai")
    report = await only(reporter, Report)
    assert report.official_id is None
    assert report.official_description == "Chị Hoa, quầy số 3, tiếp nhận hồ sơ đất đai"
    case = await only(reporter, Case)
    assert "Chị Hoa, quầy số 3" in await desk_leader.say(f"/case {case.id}")


async def test_an_account_over_the_limit_is_refused_and_can_be_shortened(reporter: Chat) -> None:
    out = await reporter.say("/report")
    out = await reporter.say(number_of(out, "Sách nhiễu"))
    out = await reporter.say("dak ha")
    out = await reporter.say(number_of(out, "Bộ phận Một cửa huyện Đắk Hà"))
    out = await reporter.say(number_of(out, "Không biết người đó là ai"))
    out = await reporter.say(number_of(out, "Hôm nay"))
    refused = await reporter.say("x" * 2001)
    assert "dài 2001 ký tự, vượt quá giới hạn 2000 ký tự" in refused
    assert "có đe dọa Ông/Bà không" not in refused
    out = await reporter.say("Cán bộ yêu cầu nộp thêm giấy tờ.")
    assert "có đe dọa Ông/Bà không" in out


@pytest.mark.parametrize(
    "outcome",
    [
        "Phản ánh có cơ sở, đã chấn chỉnh",
        "Phản ánh có cơ sở một phần",
        "Phản ánh không có cơ sở",
        "Chuyển Thanh tra hoặc Công an",
    ],
)
async def test_every_other_outcome_is_recorded_and_told_to_the_reporter(
    reporter: Chat, desk_leader: Chat, outcome: str
) -> None:
    await file_report(reporter)
    case = await only(reporter, Case)
    out = await desk_leader.say(f"/case {case.id}")
    out = await desk_leader.say(number_of(out, "Tiếp nhận"))
    out = await desk_leader.say(number_of(out, "Ra kết quả xử lý"))
    out = await desk_leader.say(number_of(out, outcome))
    out = await desk_leader.say("Đã xác minh và xử lý theo quy định.")
    out = await desk_leader.say(number_of(out, "Xác nhận"))
    assert "Đã ghi nhận kết quả" in out
    assert any(f"đã có kết quả xử lý: {outcome}" in m for m in reporter.received())
    assert (await only(reporter, Case)).state == "decided"
    assert await reporter.rows(Assignment) == []
