"""Notice and rights: the privacy notice names the controller, who sees what and for how long;
/mydata lists everything kept about the person, in words rather than codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.runtime import Runtime
from handlers.citizen.start import PRIVACY_NOTICE_VERSION
from storage import agencies
from storage.models import Citizen, Rating
from storage.ratings import add_rating
from tests.casework import citizen, commend, file_report, officer
from tests.conftest import Chat, make_settings
from tests.dialogue import number_of

World = tuple[Runtime, list[tuple[str, str]]]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url=database_url,
        controller_name="Sở Nội vụ tỉnh Thử Nghiệm",
        controller_contact="0260 3 000 000",
        retention_days=400,
        closed_case_retention_days=200,
    )


async def test_the_notice_names_the_controller_who_sees_what_and_for_how_long(
    chat: Chat,
) -> None:
    notice = await chat.say("/start")
    for part in (
        "Bên kiểm soát dữ liệu: Sở Nội vụ tỉnh Thử Nghiệm; liên hệ: 0260 3 000 000",
        "họ tên, số điện thoại chỉ khi Ông/Bà tự cung cấp",
        "cơ quan xử lý chỉ thấy một mã riêng của từng phản ánh",
        "(/forget)",
    ):
        assert part in notice, part
    details = await chat.say(number_of(notice, "Xem chi tiết"))
    for part in (
        "lãnh đạo cơ quan xử lý, Sở Nội vụ (bộ phận tiếp nhận), cơ quan được chuyển hồ sơ; "
        "phản ánh đòi, gợi ý đưa tiền, quà hoặc có đe dọa được gửi đồng thời Thanh tra tỉnh",
        "họ tên và số điện thoại Ông/Bà cung cấp được hiển thị cho các cơ quan nêu trên",
        "được xóa sau 400 ngày",
        "được xóa sau 200 ngày kể từ ngày hồ sơ kết thúc xử lý",
    ):
        assert part in details, part
    assert "Bên kiểm soát dữ liệu" not in details, "the details do not repeat the notice"
    assert await chat.rows(Citizen) == [], "reading the details is not consent"
    await chat.say(number_of(details, "Tôi đồng ý"))
    [person] = await chat.rows(Citizen)
    assert person.consent_version == PRIVACY_NOTICE_VERSION


async def test_the_english_notice_says_the_same(runtime: World) -> None:
    chat = Chat(*runtime, "visitor")
    chat.language = "en"
    notice = await chat.say("/start")
    assert "Data controller: Sở Nội vụ tỉnh Thử Nghiệm; contact: 0260 3 000 000" in notice
    details = await chat.say(number_of(notice, "Details"))
    for part in (
        "Home Affairs (intake), any agency the case is transferred to and, for demanded money "
        "or gifts or threats, the provincial Inspectorate",
        "only a code of that one report",
        "deleted 400 days after",
        "deleted 200 days after the case is closed",
    ):
        assert part in details, part


async def rate(chat: Chat, comment: str) -> None:
    """A rating of Đắk Hà's one-stop desk stored for the chat's citizen, as the flow stores it."""
    [person] = await chat.rows(Citizen)
    async with chat.runtime.sessions() as session, session.begin():
        desk = await agencies.agency_by_code("615-MC", session=session)
        service = await agencies.service_by_code("CHUNG-THUC", session=session)
        assert desk is not None and service is not None
        rating = Rating(
            citizen_id=person.id,
            agency_id=desk.id or 0,
            service_id=service.id or 0,
            channel=person.channel,
            score_access=4,
            score_procedure=4,
            score_conduct=5,
            score_result=4,
            timeliness="on_time",
            extra_papers="no",
            trips=1,
            submission="in_person",
            unofficial_payment="no",
            comment=comment,
            created_at=person.consented_at,
        )
        await add_rating(rating, session=session)


async def test_mydata_lists_everything_in_words(runtime: World) -> None:
    rt, output = runtime
    reporter = await citizen(rt, output, "citizen-1")
    await rate(reporter, "Thủ tục nhanh.")
    await commend(reporter, "Cán bộ hướng dẫn tận tình.")
    receipt = await file_report(reporter, named=("Nguyễn Thị Hoa", "0912345678"))
    await reporter.say("/news")
    out = await reporter.say("/mydata")
    for part in (
        "Tài khoản: Cửa sổ dòng lệnh (dùng thử); ngôn ngữ: Tiếng Việt",
        "Đang nhận thông báo",
        "Số đánh giá đã gửi: 1\n  – 30/11/2026 09:00: Bộ phận Một cửa huyện Đắk Hà\n"
        "    Nội dung: “Thủ tục nhanh.”",
        "Số lời khen đã gửi: 1\n  – 30/11/2026 09:00: Bộ phận Một cửa huyện Đắk Hà\n"
        "    Nội dung: “Cán bộ hướng dẫn tận tình.”",
        receipt,
        "Nguyễn Thị Hoa – 0912345678",
    ):
        assert part in out, part
    assert "console" not in out and "Vai trò cán bộ" not in out
    await reporter.say("/language en")
    out = await reporter.say("/mydata")
    assert "Account: Terminal chat (trial); language: English" in out
    assert "Commendations sent: 1" in out


async def test_mydata_shows_an_officers_role_and_agency(runtime: World) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader-mc", "615-MC", "leader")
    out = await leader.say("/mydata")
    assert "Vai trò cán bộ xử lý: lãnh đạo, Bộ phận Một cửa huyện Đắk Hà" in out
    assert "Tài khoản:" not in out, "not a citizen: no consent, ratings or reports"
    both = await citizen(rt, output, "leader-mc")
    out = await both.say("/mydata")
    assert "Vai trò cán bộ xử lý: lãnh đạo" in out and "Số đánh giá đã gửi: 0" in out
