"""Health and education are rated in their own words and reported apart from administrative
procedures, as SIPAS reports those."""

from __future__ import annotations

from datetime import date

from handlers.admin.summary import build_summary, summary_text
from handlers.periods import Period
from handlers.texts import Texts
from storage.models import Rating
from tests.conftest import Chat, Clock
from tests.dialogue import number_of

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


async def rate(chat: Chat, *picks: str) -> str:
    """From the menu through the agency and service picked, to the first factor question."""
    out = await chat.say(number_of(await chat.say("/start"), "Đánh giá"))
    for pick in picks:
        out = await chat.say(number_of(out, pick))
    return out


async def test_a_hospital_rating_asks_the_health_questions_and_lands_in_the_health_index(
    quang_ngai: Chat, clock: Clock
) -> None:
    chat = quang_ngai
    out = await rate(
        chat, "Cơ quan cấp tỉnh", "Sở Y tế", "Bệnh viện Đa khoa tỉnh", "Khám bệnh, chữa bệnh"
    )
    questions = [out]
    for _ in range(4):
        out = await chat.say("4")
        questions.append(out)
    out = await chat.say("5")
    questions.append(out)
    asked = "\n".join(questions)
    assert "Khả năng tiếp cận" in asked and "nhân viên y tế" in asked
    assert "Cơ sở vật chất và phương tiện phục vụ người bệnh" in asked
    assert "Thủ tục hành chính" not in asked and "Công chức" not in asked
    assert "phiếu hẹn" not in out and "giấy tờ ngoài" not in out
    assert "đưa tiền hoặc quà" in out, "an unofficial payment is asked of every sector"
    out = await chat.say(number_of(out, "Không"))
    out = await chat.say(number_of(out, "Không có góp ý"))
    assert "Thái độ ứng xử, năng lực chuyên môn của nhân viên y tế: 4" in out
    out = await chat.say(number_of(out, "Gửi đánh giá"))
    assert "Đánh giá của Ông/Bà đã được ghi nhận" in out
    [rating] = await chat.rows(Rating)
    assert (rating.timeliness, rating.trips, rating.submission) == (None, None, None)
    assert (rating.score_access, rating.score_feedback) == (4, 5)

    async with chat.runtime.reads() as session:
        summary = await build_summary(
            session, NOVEMBER, None, now=clock.now, min_sample=1, locale="vi"
        )
    assert list(summary.sectors) == ["health"]
    assert summary.sectors["health"].ratings == 1 and summary.sectors["health"].overall == 1.0
    text = summary_text(Texts("vi"), summary, "Toàn tỉnh", 1)
    assert summary.overall.ratings == 0 and summary.overall.overall is None
    assert "Chỉ số hài lòng chung về thủ tục hành chính* (" in text
    assert "Các lĩnh vực khác, tính riêng, không gộp vào chỉ số chung" in text
    assert "y tế 100,0% (1 lượt)" in text


async def test_a_commune_procedure_still_asks_the_one_stop_facts(quang_ngai: Chat) -> None:
    out = await rate(
        quang_ngai, "Cơ quan cấp xã", "phường Cẩm Thành", "Trung tâm Phục vụ", "Đăng ký khai sinh"
    )
    assert "Tiếp cận dịch vụ hành chính công" in out
    for _ in range(4):
        out = await quang_ngai.say("4")
    out = await quang_ngai.say("4")
    assert "phiếu hẹn" in out


async def test_a_school_is_rated_in_a_parent_s_words(quang_ngai: Chat) -> None:
    out = await rate(
        quang_ngai, "Cơ quan cấp tỉnh", "Sở Giáo dục", "chuyên Lê Khiết", "Giáo dục phổ thông"
    )
    assert "Tiếp cận dịch vụ giáo dục" in out
    out = await quang_ngai.say("3")
    assert "Cơ sở vật chất, trang thiết bị" in out
