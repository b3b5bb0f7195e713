"""End to end on Telegram: an anonymous report with a photo travels to the right leader, who
acknowledges, asks, decides a reassignment; the reporter answers and confirms; nothing that
reaches an officer identifies the reporter."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Assignment, Case, Evidence
from tests.e2e.telegram_bot import Citizen, RunningBot, join, report_official, same_picture
from tests.fakes import FakeTelegramServer

REPORTER, LEADER, NAMED_OFFICIAL, INTAKE = 987654321, 7001, 7002, 7003
SECRET_NAME, SECRET_USERNAME = "Bí Mật", "bimat_vn"


async def test_an_anonymous_report_is_handled_to_a_reassignment(
    running: RunningBot, tg: FakeTelegramServer
) -> None:
    leader = await join(running, tg, LEADER, "615-MC", "leader")
    named = await join(running, tg, NAMED_OFFICIAL, "615-MC", "officer", "615-MC-CV1")
    intake = await join(running, tg, INTAKE, "62-SNV", "admin")

    reporter = Citizen(tg, REPORTER)
    tg.send_text(REPORTER, "/start", first_name=SECRET_NAME, username=SECRET_USERNAME)
    await tg.wait_for_messages(REPORTER, 1)
    await reporter.tap("Tôi đồng ý", "Mời Ông/Bà chọn chức năng")
    await report_official(reporter, photo=True)

    async with running.runtime.sessions() as session:
        [evidence] = (await session.scalars(select(Evidence))).all()
        [case] = (await session.scalars(select(Case))).all()
    assert same_picture(evidence.content, tg.file_content(evidence_file_id(tg)))

    await tg.wait_until(
        lambda: any("Hồ sơ phản ánh mới" in (m.text or "") for m in tg.messages(LEADER))
    )
    await leader.tap("Mở hồ sơ", f"Hồ sơ #{case.id}")
    await leader.tap("Xem bằng chứng", "Bằng chứng của hồ sơ")
    assert any(m.kind == "photo" for m in tg.messages(LEADER))
    await leader.tap("Tiếp nhận", "Cơ quan đã tiếp nhận")
    await leader.tap("Hỏi người phản ánh", "Xin nhập câu hỏi")
    await leader.type("Ông/Bà làm thủ tục ở quầy số mấy?", "Câu hỏi đã được gửi")

    await tg.wait_until(
        lambda: any("quầy số mấy" in (m.text or "") for m in tg.messages(REPORTER))
    )
    await reporter.tap("Trả lời câu hỏi", "Xin Ông/Bà nhập câu trả lời")
    await reporter.type("Quầy số 2.", "Câu trả lời đã được chuyển")
    await tg.wait_until(lambda: any("Quầy số 2." in (m.text or "") for m in tg.messages(LEADER)))

    await leader.type(f"/case {case.id}", f"Hồ sơ #{case.id}")
    await leader.tap("Biện pháp đối với công chức", "Biện pháp nào đã được áp dụng")
    await leader.tap("Bố trí công tác khác", "bố trí làm công việc gì")
    await leader.type("Chuyên viên Phòng Nội vụ huyện", "hiệu lực từ ngày nào")
    await leader.type("1/12/2026", "Số quyết định")
    await leader.type("125/QĐ-UBND", "Công việc được bố trí")
    await leader.tap("Xác nhận", "Đã ghi nhận biện pháp")
    await leader.tap("Ra kết quả xử lý", "Kết quả xử lý là gì")
    await leader.tap("Phản ánh có cơ sở, đã chấn chỉnh", "nội dung trả lời")
    await leader.type(
        "Đã kiểm điểm, bố trí công chức sang vị trí không tiếp dân.", "Nội dung trả lời"
    )
    await leader.tap("Xác nhận", "Đã ghi nhận kết quả")

    await tg.wait_until(
        lambda: any("đã có kết quả xử lý" in m.text for m in tg.messages(REPORTER))
    )
    await reporter.tap("Đã được giải quyết", "Phản ánh được kết thúc")

    async with running.runtime.sessions() as session:
        [case] = (await session.scalars(select(Case))).all()
        [assignment] = (await session.scalars(select(Assignment))).all()
    assert case.state == "closed"
    assert assignment.measure == "reassign"
    assert (assignment.new_post, assignment.decision_number) == (
        "Chuyên viên Phòng Nội vụ huyện",
        "125/QĐ-UBND",
    )

    assert not any("Hồ sơ" in (m.text or "") for m in tg.messages(NAMED_OFFICIAL)[1:]), (
        "the official named never hears of the report"
    )
    seen_by_officers = [
        f"{m.text} {m.caption or ''}"
        for chat in (LEADER, NAMED_OFFICIAL, INTAKE)
        for m in tg.messages(chat)
    ]
    assert any("Hồ sơ phản ánh mới" in text for text in seen_by_officers)
    for text in seen_by_officers:
        for secret in (str(REPORTER), SECRET_NAME, SECRET_USERNAME):
            assert secret not in text
    del named, intake


def evidence_file_id(tg: FakeTelegramServer) -> str:
    photo = next(c for c in tg.calls if c.method == "getFile")
    return str(photo.params["file_id"])
