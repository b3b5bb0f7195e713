"""The rating conversation in the terminal channel: say this, expect that."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers.citizen.start import PRIVACY_NOTICE_VERSION
from handlers.textmatch import fold
from storage.models import Agency, Citizen, Rating, Service
from tests.conftest import Chat
from tests.dialogue import number_of, options

SCORE_QUESTION = "Xin Ông/Bà chọn một mức từ 1 đến 5"


async def open_rating(chat: Chat, agency_query: str = "tu phap", service: str = "lý lịch") -> str:
    """From the menu to the first factor question, choosing the agency by typed name."""
    out = await chat.say(number_of(await chat.say("/start"), "Đánh giá"))
    assert "Ông/Bà đã làm thủ tục tại cơ quan nào?" in out
    out = await chat.say(agency_query)
    out = await chat.say(number_of(out, "Sở Tư pháp"))
    assert "thực hiện thủ tục hoặc sử dụng dịch vụ công nào" in out
    out = await chat.say(number_of(out, service))
    assert "Yếu tố 1/5" in out
    return out


async def answer_rest(chat: Chat, *, timeliness: str = "Đúng hẹn") -> str:
    """Factors 4,5,3,2, feedback skipped, then the facts, no comment: ends at the summary."""
    out = ""
    for mark in ("4", "5", "3", "2"):
        out = await chat.say(mark)
    out = await chat.say(number_of(out, "Bỏ qua"))
    assert "So với ngày hẹn" in out
    out = await chat.say(number_of(out, timeliness))
    if timeliness == "Trễ hẹn":
        assert "Phiếu xin lỗi" in out
        out = await chat.say(number_of(out, "Có"))
    out = await chat.say(number_of(out, "Có"))  # extra papers: yes
    out = await chat.say(number_of(out, "3 lần trở lên"))
    out = await chat.say(number_of(out, "trực tuyến toàn trình"))
    out = await chat.say(number_of(out, "Không"))  # unofficial payment: no
    assert "góp ý gì thêm" in out
    return out


async def stored_rating(chat: Chat) -> tuple[Rating, str, str]:
    async with chat.runtime.sessions() as session:
        rating = (await session.scalars(select(Rating))).one()
        agency = await session.get(Agency, rating.agency_id)
        service = await session.get(Service, rating.service_id)
    assert agency is not None and service is not None
    return rating, agency.code, service.code


async def test_first_contact_asks_consent_and_stores_nothing_before(chat: Chat) -> None:
    out = await chat.say("/start")
    assert "Thông báo về dữ liệu cá nhân" in out and "Xem chi tiết" in out
    out = await chat.say(number_of(out, "không đồng ý"))
    assert "không lưu thông tin nào" in out
    assert await chat.rows(Citizen) == []
    out = await chat.say("xin chào")
    assert "Thông báo về dữ liệu cá nhân" in out, "after a refusal the notice is shown again"
    assert "Xin Ông/Bà gõ số thứ tự của một trong các phương án" not in out
    out = await chat.say("hmm")
    assert "Xin Ông/Bà gõ số thứ tự của một trong các phương án" in out
    out = await chat.say("1")
    assert "Sự đồng ý của Ông/Bà đã được ghi nhận" in out and "Mời Ông/Bà chọn chức năng" in out
    [citizen] = await chat.rows(Citizen)
    assert citizen.consent_version == PRIVACY_NOTICE_VERSION
    assert citizen.consented_at is not None
    assert chat.chat_id not in citizen.account_ref and chat.chat_id not in citizen.address


async def test_a_whole_rating_stores_every_answer(consented: Chat) -> None:
    await open_rating(consented)
    out = await answer_rest(consented, timeliness="Trễ hẹn")
    out = await consented.say("Cán bộ hướng dẫn rất tận tình.")
    assert "Xin Ông/Bà kiểm tra lại các câu trả lời" in out
    assert "Cơ quan: Sở Tư pháp tỉnh Kon Tum" in out
    assert "Tiếp nhận, giải quyết góp ý, phản ánh, kiến nghị: Không đánh giá" in out
    assert await consented.rows(Rating) == []
    out = await consented.say(number_of(out, "Gửi đánh giá"))
    assert "Đánh giá của Ông/Bà đã được ghi nhận" in out
    assert "Ông/Bà có muốn gửi phản ánh" in out, "extra papers were demanded: a report is offered"
    out = await consented.say(number_of(out, "Không, cảm ơn"))
    assert "Mời Ông/Bà chọn chức năng" in out
    rating, agency, service = await stored_rating(consented)
    assert (agency, service) == ("62-STP", "LY-LICH-TU-PHAP")
    assert (rating.score_access, rating.score_procedure) == (4, 5)
    assert (rating.score_conduct, rating.score_result, rating.score_feedback) == (3, 2, None)
    assert (rating.timeliness, rating.apology, rating.extra_papers) == ("late", "yes", "yes")
    assert (rating.trips, rating.submission, rating.unofficial_payment) == (3, "online_full", "no")
    assert rating.comment == "Cán bộ hướng dẫn rất tận tình."
    assert rating.channel == "console"


async def test_apology_is_asked_only_when_late(consented: Chat) -> None:
    await open_rating(consented)
    out = await answer_rest(consented, timeliness="Trước hẹn")
    await consented.say(number_of(out, "Không có góp ý"))
    out = await consented.say("1")
    rating, _, _ = await stored_rating(consented)
    assert rating.timeliness == "early" and rating.apology is None and rating.comment is None


async def test_agency_by_typed_name_ignores_accents(consented: Chat) -> None:
    out = await consented.say("1")
    example = re.search(r"có dấu hoặc không dấu \(ví dụ: ([^,]+), ([^)]+)\)\.", out)
    assert example is not None, out
    assert example[2] == fold(example[1]), "the same place, typed without accents"
    assert example[1] in {a.name_vi.split(" huyện ")[-1] for a in await consented.rows(Agency)}
    out = await consented.say("dak ha")
    assert "Ủy ban nhân dân huyện Đắk Hà" in out and "Bộ phận Một cửa huyện Đắk Hà" in out
    out = await consented.say("khong co co quan nay")
    assert "Không tìm thấy cơ quan nào có tên phù hợp với “khong co co quan nay”" in out
    out = await consented.say("xa")
    assert "dưới đây là 8 cơ quan phù hợp nhất" in out
    assert len(options(out)) == 8 + 1, "the best eight and the back option"


async def test_words_in_any_order_and_abbreviations_find_the_agency(consented: Chat) -> None:
    await consented.say("1")
    for typed, wanted in (
        ("ubnd dak to", "Ủy ban nhân dân huyện Đắk Tô"),
        ("mot cua dak to", "Bộ phận Một cửa huyện Đắk Tô"),
        ("Đắk Hà một cửa", "Bộ phận Một cửa huyện Đắk Hà"),
    ):
        out = await consented.say(typed)
        assert number_of(out, wanted) == "1", f"{typed!r} offers {wanted} first"


async def test_a_service_is_chosen_by_words_of_its_name(consented: Chat) -> None:
    await consented.say("1")
    out = await consented.say(number_of(await consented.say("ha mon xa"), "xã Hà Mòn"))
    assert "Đăng ký khai sinh" in out
    out = await consented.say("dang ky")
    assert "Xin Ông/Bà gõ số thứ tự" in out, "several services start so: the question again"
    out = await consented.say("KHAI SINH")
    assert "Yếu tố 1/5" in out


async def test_a_pasted_essay_is_refused_briefly(consented: Chat) -> None:
    await consented.say("1")
    out = await consented.say("Đắk Hà " * 15_000)
    assert "dài quá 100 ký tự" in out
    assert len(out) < 2_000, "the text is not echoed back"


async def test_agency_by_level_district_then_commune(consented: Chat) -> None:
    await consented.say("1")
    out = await consented.say("2")
    assert "Xin chọn huyện hoặc thành phố" in out
    out = await consented.say(number_of(out, "huyện Đắk Hà"))
    assert "Bộ phận Một cửa huyện Đắk Hà" in out and "xã Hà Mòn" in out
    out = await consented.say(number_of(out, "xã Hà Mòn"))
    assert "Đăng ký khai sinh" in out and "Đăng ký doanh nghiệp" not in out
    out = await consented.say(number_of(out, "Đăng ký khai sinh"))
    assert "Yếu tố 1/5" in out


async def test_provincial_level_lists_departments(consented: Chat) -> None:
    await consented.say("1")
    out = await consented.say("1")
    assert "Sở Nội vụ tỉnh Kon Tum" in out and "Trung tâm Phục vụ hành chính công" in out
    assert "huyện" not in "".join(options(out))


async def test_back_returns_one_question_and_forgets_that_answer(consented: Chat) -> None:
    await open_rating(consented)
    out = await consented.say("4")
    assert "Yếu tố 2/5" in out and "Quay lại" in out
    out = await consented.say("quay lại")
    assert "Yếu tố 1/5" in out
    out = await consented.say(number_of(out, "Quay lại"))
    assert "thực hiện thủ tục hoặc sử dụng dịch vụ công nào" in out
    out = await consented.say(number_of(out, "lý lịch"))
    out = await consented.say("1")
    assert "Yếu tố 2/5" in out
    await consented.say("back")
    await consented.say("2")
    out = await answer_rest_from_procedure(consented)
    await consented.say(number_of(out, "Không có góp ý"))
    await consented.say("1")
    rating, _, _ = await stored_rating(consented)
    assert rating.score_access == 2


async def answer_rest_from_procedure(chat: Chat) -> str:
    out = ""
    for mark in ("5", "3", "2"):
        out = await chat.say(mark)
    for label in ("Bỏ qua", "Đúng hẹn", "Không", "1 lần", "Trực tiếp", "Không"):
        out = await chat.say(number_of(out, label))
    return out


async def test_change_an_answer_from_the_summary(consented: Chat) -> None:
    await open_rating(consented)
    out = await answer_rest(consented)
    out = await consented.say(number_of(out, "Không có góp ý"))
    out = await consented.say(number_of(out, "Sửa một câu trả lời"))
    assert "muốn sửa câu trả lời nào" in out and "Phiếu xin lỗi" not in out
    out = await consented.say("Tiếp cận dịch vụ hành chính công")
    assert "Yếu tố 1/5" in out
    out = await consented.say("5")
    assert "Tiếp cận dịch vụ hành chính công: 5 – Rất hài lòng" in out
    out = await consented.say(number_of(out, "Sửa một câu trả lời"))
    out = await consented.say(number_of(out, "Thời hạn trả kết quả"))
    out = await consented.say(number_of(out, "Trễ hẹn"))
    assert "Phiếu xin lỗi" in out
    out = await consented.say(number_of(out, "Không nhớ rõ"))
    assert "Phiếu xin lỗi và hẹn lại ngày trả kết quả: Không nhớ rõ" in out
    await consented.say(number_of(out, "Gửi đánh giá"))
    rating, _, _ = await stored_rating(consented)
    assert (rating.score_access, rating.timeliness, rating.apology) == (5, "late", "unsure")


async def test_change_the_agency_asks_agency_and_service_again(consented: Chat) -> None:
    await open_rating(consented)
    out = await answer_rest(consented)
    out = await consented.say(number_of(out, "Không có góp ý"))
    out = await consented.say(number_of(out, "Sửa một câu trả lời"))
    out = await consented.say(number_of(out, "Cơ quan và dịch vụ"))
    out = await consented.say("dak ha")
    out = await consented.say(number_of(out, "Bộ phận Một cửa huyện Đắk Hà"))
    out = await consented.say(number_of(out, "Chứng thực"))
    assert "Cơ quan: Bộ phận Một cửa huyện Đắk Hà" in out
    await consented.say(number_of(out, "Gửi đánh giá"))
    _, agency, service = await stored_rating(consented)
    assert (agency, service) == ("615-MC", "CHUNG-THUC")


async def test_cancel_at_any_point_stores_nothing(consented: Chat) -> None:
    await open_rating(consented)
    await consented.say("4")
    out = await consented.say("/cancel")
    assert "Đã hủy" in out and "Mời Ông/Bà chọn chức năng" in out
    assert "Quay lại" not in out
    out = await consented.say("/cancel")
    assert "Hiện không có thao tác nào đang làm dở" in out
    await open_rating(consented)
    out = await answer_rest(consented)
    out = await consented.say(number_of(out, "Không có góp ý"))
    out = await consented.say(number_of(out, "Hủy đánh giá"))
    assert "Đã hủy" in out
    assert await consented.rows(Rating) == []


async def test_text_where_a_choice_is_expected_repeats_with_a_hint(consented: Chat) -> None:
    await open_rating(consented)
    for bad in ("tốt lắm", "9", "6", "9" * 5000):
        out = await consented.say(bad)
        assert "Xin Ông/Bà gõ số thứ tự của một trong các phương án" in out
        assert "bấm" not in out, "the terminal has no buttons"
        assert "Yếu tố 1/5" in out
    assert "Không có phương án số 6." in await consented.say("6")
    out = await consented.say("4 – hài lòng")
    assert "Yếu tố 2/5" in out


async def test_labels_are_typed_with_or_without_accents(consented: Chat) -> None:
    out = await open_rating(consented)
    assert "  0. ◀ Quay lại" in out and "  6." not in out, "back never shares a scale's number"
    for typed, expect in (
        ("Hài lòng", "Yếu tố 2/5"),
        ("rat hai long", "Yếu tố 3/5"),
        ("KHONG HAI LONG", "công chức nào đã trực tiếp giải quyết"),
        ("khong muon neu", "Yếu tố 4/5"),
        ("binh thuong", "Yếu tố 5/5"),
        ("bo qua", "So với ngày hẹn"),
        ("dung hen", "giấy tờ"),
    ):
        out = await consented.say(typed)
        assert expect in out, typed
    out = await consented.say("0")
    assert "So với ngày hẹn" in out, "0 goes back one question"
    await consented.say("tre hen")
    await consented.say("khong nho ro")
    await consented.say("khong")
    await consented.say("3 lan tro len")
    out = await consented.say("truc tuyen")
    assert "hình thức nào" in out, "two options say trực tuyến: the question is asked again"
    for typed in ("truc tuyen mot phan", "khong"):
        await consented.say(typed)
    await consented.say(number_of(await consented.say("khong co gop y"), "Gửi đánh giá"))
    rating, _, _ = await stored_rating(consented)
    assert (rating.score_access, rating.score_procedure, rating.score_conduct) == (4, 5, 2)
    assert (rating.score_result, rating.score_feedback) == (3, None)
    assert (rating.timeliness, rating.apology, rating.extra_papers) == ("late", "unsure", "no")
    assert (rating.trips, rating.submission) == (3, "online_part")


async def test_a_photo_where_text_is_expected_gets_a_polite_line(consented: Chat) -> None:
    await open_rating(consented)
    out = await consented.send_photo()
    assert "chỉ nhận tin nhắn bằng chữ" in out and "Yếu tố 1/5" in out


async def test_a_comment_over_the_limit_is_refused_with_the_limit(consented: Chat) -> None:
    await open_rating(consented)
    await answer_rest(consented)
    out = await consented.say("x" * 1001)
    assert "dài 1001 ký tự, vượt quá giới hạn 1000 ký tự" in out and "góp ý gì thêm" in out
    out = await consented.say("y" * 1000)
    assert "kiểm tra lại các câu trả lời" in out


async def test_unknown_command_shows_help_and_keeps_the_question(consented: Chat) -> None:
    await open_rating(consented)
    out = await consented.say("/xyz")
    assert "không nhận ra lệnh này" in out and "/cancel" in out and "Yếu tố 1/5" in out
    out = await consented.say("/help")
    assert "/language" in out and "Yếu tố 1/5" in out


async def test_old_or_forged_buttons_are_refused_and_change_nothing(consented: Chat) -> None:
    await open_rating(consented)
    for forged in ("nottoken:1", "", "::::", "x" * 300):
        assert await consented.press(forged) == ""
    out = await consented.say("3")
    assert "Yếu tố 2/5" in out
    out = await consented.say("/cancel")
    assert "Yếu tố" not in out


async def test_deep_link_preselects_agency_and_service(consented: Chat) -> None:
    out = await consented.say("/start r_615-MC_CHUNG-THUC")
    assert "Cơ quan được đánh giá: Bộ phận Một cửa huyện Đắk Hà" in out
    assert "Yếu tố 1/5" in out
    out = await consented.say("/start r_615-MC_NOPE")
    assert "thực hiện thủ tục hoặc sử dụng dịch vụ công nào" in out
    out = await consented.say("/start r_NOPE")
    assert "Không xác định được cơ quan" in out and "Ông/Bà đã làm thủ tục tại cơ quan nào?" in out


async def test_deep_link_survives_the_consent_question(chat: Chat) -> None:
    out = await chat.say("/start r_615-MC_CHUNG-THUC")
    assert "Thông báo về dữ liệu cá nhân" in out
    out = await chat.say(number_of(out, "Tôi đồng ý"))
    assert "Bộ phận Một cửa huyện Đắk Hà" in out and "Yếu tố 1/5" in out


async def test_english_from_the_platform_language_and_language_switch(chat: Chat) -> None:
    chat.language = "en-GB"
    out = await chat.say("/start")
    assert "About your personal data" in out
    out = await chat.say("1")
    assert "Please choose what you would like to do" in out
    out = await chat.say("/language")
    assert "Đã chuyển sang tiếng Việt" in out and "Mời Ông/Bà chọn chức năng" in out
    out = await chat.say(number_of(out, "English"))
    assert "Switched to English" in out and "Rate a service" in out
    [citizen] = await chat.rows(Citizen)
    assert citizen.locale == "en"
    out = await chat.say("/language vi")
    assert "Đánh giá dịch vụ" in out


async def test_backing_out_of_a_change_keeps_the_old_answer(consented: Chat) -> None:
    await open_rating(consented)
    out = await answer_rest(consented)
    out = await consented.say(number_of(out, "Không có góp ý"))
    out = await consented.say(number_of(out, "Sửa một câu trả lời"))
    out = await consented.say(number_of(out, "Tiếp cận dịch vụ"))
    out = await consented.say("quay lại")
    out = await consented.say("quay lại")
    assert "Tiếp cận dịch vụ hành chính công: 4 – Hài lòng" in out


async def test_language_words_and_unknown_language(chat: Chat) -> None:
    await chat.say("/start")
    await chat.say("1")
    out = await chat.say("/language english")
    assert "Switched to English" in out
    out = await chat.say("/language english")
    assert "Switched to English" in out and "Please choose what you would like to do" in out
    out = await chat.say("/language klingon")
    assert "/language vi" in out and "Please choose what you would like to do" in out
    out = await chat.say("/language tiếng việt")
    assert "Đã chuyển sang tiếng Việt" in out


async def test_common_abbreviations_are_understood(consented: Chat) -> None:
    await consented.say("1")
    out = await consented.say("UBND xa Ia Toi")
    assert "Ủy ban nhân dân xã Ia Tơi" in out


async def test_deep_link_names_the_service_too(consented: Chat) -> None:
    out = await consented.say("/start r_615-MC_CHUNG-THUC")
    assert "Dịch vụ được đánh giá: Chứng thực" in out


async def test_the_terminal_resumes_at_the_current_question(consented: Chat) -> None:
    await open_rating(consented)
    await consented.say("4")
    out = await consented.say("/resume")
    assert "Yếu tố 2/5" in out
