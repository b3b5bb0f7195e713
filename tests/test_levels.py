"""Levels as data: the picker follows the directory file's levels at any depth, and the notices
name the province the file names."""

from __future__ import annotations

from tests.conftest import Chat
from tests.dialogue import number_of, options


def listed(transcript: str) -> list[str]:
    """The options of the last question, without the way back."""
    return [label for label in options(transcript) if "Quay lại" not in label]


async def test_a_commune_is_picked_on_a_two_level_directory(two_levels: Chat) -> None:
    chat = two_levels
    notice = chat.received()[0]
    assert "cơ quan hành chính nhà nước tại tỉnh Thử Nghiệm" in notice
    assert "Bên kiểm soát dữ liệu: Sở Nội vụ tỉnh Thử Nghiệm" in notice, "the file's intake"
    out = await chat.say(number_of(await chat.say("/start"), "Đánh giá"))
    assert listed(out) == ["Cơ quan cấp tỉnh", "Cơ quan cấp xã"]
    out = await chat.say(number_of(out, "Cơ quan cấp xã"))
    assert "Xin chọn xã, phường hoặc đặc khu" in out
    assert listed(out) == ["Ủy ban nhân dân xã Núi Một", "Ủy ban nhân dân phường Sông Hai"]
    out = await chat.say(number_of(out, "xã Núi Một"))
    assert listed(out) == [
        "Ủy ban nhân dân xã Núi Một",
        "Trung tâm Phục vụ hành chính công xã Núi Một",
        "Công an xã Núi Một",
    ]
    out = await chat.say(number_of(out, "Công an xã"))
    assert "Đăng ký cư trú" in out and "Đăng ký khai sinh" not in out


async def test_the_provincial_level_lists_no_commune(two_levels: Chat) -> None:
    chat = two_levels
    out = await chat.say(number_of(await chat.say("/start"), "Đánh giá"))
    out = await chat.say(number_of(out, "Cơ quan cấp tỉnh"))
    assert listed(out) == ["Sở Nội vụ tỉnh Thử Nghiệm"]


async def test_a_commune_with_its_own_units_can_itself_be_rated(two_levels: Chat) -> None:
    chat = two_levels
    out = await chat.say(number_of(await chat.say("/start"), "Đánh giá"))
    out = await chat.say(number_of(out, "Cơ quan cấp xã"))
    out = await chat.say(number_of(out, "xã Núi Một"))
    out = await chat.say(number_of(out, "Ủy ban nhân dân xã Núi Một"))
    assert "Trợ cấp xã hội" in out and "Đăng ký cư trú" not in out


async def test_three_levels_of_2022_open_a_district_then_a_commune(consented: Chat) -> None:
    """The 2022 file: province → district → commune, with its own labels."""
    out = await consented.say(number_of(await consented.say("/start"), "Đánh giá"))
    assert listed(out) == ["Cơ quan cấp tỉnh", "Cơ quan cấp huyện, cấp xã"]
    out = await consented.say(number_of(out, "cấp huyện"))
    assert "Xin chọn huyện hoặc thành phố" in out
    out = await consented.say(number_of(out, "huyện Đắk Hà"))
    out = await consented.say(number_of(out, "xã Hà Mòn"))
    assert "Đăng ký khai sinh" in out


async def test_96_communes_are_listed_a_page_at_a_time(quang_ngai: Chat) -> None:
    chat = quang_ngai
    out = await chat.say(number_of(await chat.say("/start"), "Đánh giá"))
    out = await chat.say(number_of(out, "Cơ quan cấp xã"))
    assert "Xin chọn xã, phường hoặc đặc khu" in out
    seen: list[str] = []
    while "xã Đăk Hà" not in "".join(listed(out)):
        assert len(listed(out)) == 21 and "Xem tiếp ▶" in listed(out)[-1]
        seen += listed(out)[:-1]
        out = await chat.say(number_of(out, "Xem tiếp"))
    out = await chat.say(number_of(out, "xã Đăk Hà"))
    assert listed(out) == [
        "Ủy ban nhân dân xã Đăk Hà",
        "Trung tâm Phục vụ hành chính công xã Đăk Hà",
        "Công an xã Đăk Hà",
    ]
    out = await chat.say(number_of(out, "Trung tâm Phục vụ hành chính công"))
    assert "Đăng ký khai sinh" in out and "Đăng ký cư trú" not in out
    assert len(seen) == len(set(seen)) and seen, "each page shows new communes"


async def test_hospital_care_sits_with_the_health_department(quang_ngai: Chat) -> None:
    chat = quang_ngai
    out = await chat.say(number_of(await chat.say("/start"), "Đánh giá"))
    out = await chat.say(number_of(out, "Cơ quan cấp tỉnh"))
    out = await chat.say(number_of(out, "Sở Y tế"))
    assert "Bệnh viện Đa khoa tỉnh Quảng Ngãi" in out
    out = await chat.say(number_of(out, "Bệnh viện Đa khoa"))
    assert "Khám bệnh, chữa bệnh" in out and "Đăng ký khai sinh" not in out
