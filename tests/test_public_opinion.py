"""Public opinion as the directive means it: every signal path, the review at the agency that
can move the official, and a card that lists the reports without saying who sent them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.runtime import Runtime
from handlers.casework.opinion import weigh
from storage.models import Case, Rating, Report, Review
from tests.casework import citizen, decide, file_report, officer
from tests.conftest import Chat
from tests.dialogue import number_of

World = tuple[Runtime, list[tuple[str, str]]]
OPINION = "Dư luận không tốt"


@pytest.fixture
async def desk_leader(runtime: World) -> Chat:
    return await officer(*runtime, "leader-mc", "615-MC", "leader")


@pytest.fixture
async def home_leader(runtime: World) -> Chat:
    """The leader of Đắk Hà's People's Committee, which employs the desk's officials."""
    return await officer(*runtime, "leader-615", "615", "leader")


def reviews_sent(chat: Chat) -> list[str]:
    return [m for m in chat.received() if OPINION in m]


async def rate_conduct(chat: Chat, mark: str, served: str | None) -> None:
    """A whole rating of Đắk Hà's desk with conduct `mark`; after a low mark the citizen names
    the official `served` (or would rather not say, when None)."""
    out = await chat.say("/start r_615-MC_CHUNG-THUC")
    for score in ("4", "4", mark):
        out = await chat.say(score)
    if mark in ("1", "2"):
        assert "công chức nào đã trực tiếp giải quyết" in out
        out = await chat.say(number_of(out, served or "Không muốn nêu"))
    out = await chat.say("4")
    for label in ("Bỏ qua", "Đúng hẹn", "Không", "1 lần", "Trực tiếp", "Không", "Không có góp ý"):
        out = await chat.say(number_of(out, label))
    out = await chat.say(number_of(out, "Gửi đánh giá"))
    if "Ông/Bà có muốn gửi phản ánh" in out:
        await chat.say(number_of(out, "Không"))


async def test_the_review_goes_to_the_home_agency_and_lists_reports_without_identities(
    runtime: World, desk_leader: Chat, home_leader: Chat
) -> None:
    first, second, third = [await citizen(*runtime, f"c-{n}") for n in range(3)]
    await file_report(first, named=("Nguyễn Thị Hoa", "0912 345 678"))
    await file_report(second)
    assert not reviews_sent(home_leader)
    await file_report(third, category="Thái độ")
    [sent] = reviews_sent(home_leader)
    assert "3 người dân" in sent and "Phạm Văn Thắng" in sent
    assert not reviews_sent(desk_leader), "the desk's head cannot reassign the official"
    [review] = await home_leader.rows(Review)

    card = await home_leader.say(f"/review {review.id}")
    assert "3 phản ánh và 0 phiếu đánh giá" in card and "3 người dân khác nhau" in card
    for case in await home_leader.rows(Case):
        assert f"Hồ sơ #{case.id} ·" in card
    assert "Thái độ" in card and "Bộ phận Một cửa huyện Đắk Hà" in card
    for report in await home_leader.rows(Report):
        assert report.handle not in card and report.receipt not in card
    assert "Nguyễn Thị Hoa" not in card and "0912" not in card
    out = await desk_leader.say(f"/review {review.id}")
    assert "không có quyền" in out


async def test_a_described_report_counts_once_an_officer_links_it_to_the_official(
    runtime: World, desk_leader: Chat, home_leader: Chat
) -> None:
    thang = await officer(*runtime, "thang", "615-MC", "officer", "615-MC-CV1")
    people = [await citizen(*runtime, f"c-{n}") for n in range(3)]
    await file_report(people[0])
    await file_report(people[1])
    await file_report(people[2], described="Anh cán bộ đeo kính ở quầy số 2")
    assert not reviews_sent(home_leader), "a described person counts for nobody yet"
    described = max(await desk_leader.rows(Case), key=lambda c: c.id or 0)
    assert f"Hồ sơ #{described.id}" in await thang.say(f"/case {described.id}")

    out = await desk_leader.say(f"/case {described.id}")
    out = await desk_leader.say(number_of(out, "Xác định công chức bị phản ánh"))
    out = await desk_leader.say(number_of(out, "Phạm Văn Thắng"))
    assert "Đã xác định phản ánh liên quan đến Phạm Văn Thắng" in out
    assert "Xác định công chức bị phản ánh" not in out, "linked once"
    [sent] = reviews_sent(home_leader)
    assert "3 người dân" in sent
    linked = [r for r in await desk_leader.rows(Report) if r.official_description]
    assert linked[0].official_id is not None
    out = await thang.say(f"/case {described.id}")
    assert "không có quyền" in out, "the official linked no longer sees the report"


async def test_low_conduct_marks_naming_the_official_count_half_each_citizen_once(
    runtime: World, home_leader: Chat
) -> None:
    people = [await citizen(*runtime, f"c-{n}") for n in range(5)]
    await file_report(people[0])
    await file_report(people[1])
    await rate_conduct(people[0], "1", "Phạm Văn Thắng")
    await rate_conduct(people[2], "2", "Phạm Văn Thắng")
    await rate_conduct(people[3], "1", None)
    await rate_conduct(people[4], "3", None)
    assert not reviews_sent(home_leader), "1 + 1 + 0.5: the reporter who also rated counts once"
    named = [r.official_id is not None for r in await home_leader.rows(Rating)]
    assert sorted(named) == [False, False, True, True]

    late = await citizen(*runtime, "c-late")
    await rate_conduct(late, "2", "Phạm Văn Thắng")
    [sent] = reviews_sent(home_leader)
    assert "4 người dân" in sent
    [review] = await home_leader.rows(Review)
    card = await home_leader.say(f"/review {review.id}")
    assert "2 phản ánh và 3 phiếu đánh giá chấm thái độ 1–2 điểm" in card
    assert "(tổng trọng số 3)" in card


async def test_unfounded_reports_drop_out_of_public_opinion(
    runtime: World, desk_leader: Chat, home_leader: Chat
) -> None:
    people = [await citizen(*runtime, f"c-{n}") for n in range(4)]
    await file_report(people[0])
    await file_report(people[1])
    [first, _] = sorted(await desk_leader.rows(Case), key=lambda c: c.id or 0)
    await decide(desk_leader, first.id or 0, "Phản ánh không có cơ sở")
    await file_report(people[2])
    assert not reviews_sent(home_leader), "the unfounded report no longer counts"
    await file_report(people[3])
    [sent] = reviews_sent(home_leader)
    assert "3 người dân" in sent
    [review] = await home_leader.rows(Review)
    card = await home_leader.say(f"/review {review.id}")
    assert f"Hồ sơ #{first.id} ·" not in card


citizens = st.integers(min_value=1, max_value=6)
signals = st.lists(st.tuples(citizens | st.none(), st.sampled_from([1.0, 0.5])), max_size=20)


@given(signals)
def test_each_citizen_counts_once_at_their_strongest_signal(
    given_signals: list[tuple[int | None, float]],
) -> None:
    weight, people = weigh(given_signals)
    known = {c for c, _ in given_signals if c is not None}
    assert people == len(known)
    assert weight == sum(max(w for c, w in given_signals if c == who) for who in known)
    assert weight <= people
    assert weigh([*given_signals, *given_signals]) == (weight, people), "repeats add nothing"


async def test_a_report_linked_to_the_head_of_the_desk_goes_one_level_up(
    runtime: World, desk_leader: Chat, home_leader: Chat
) -> None:
    head = await officer(*runtime, "head", "615-MC", "leader", "615-MC-TB")
    await file_report(await citizen(*runtime, "c-1"), described="Người phụ trách bộ phận")
    [case] = await desk_leader.rows(Case)
    out = await desk_leader.say(f"/case {case.id}")
    out = await desk_leader.say(number_of(out, "Xác định công chức bị phản ánh"))
    out = await desk_leader.say(number_of(out, "Phạm Trọng Đạt"))
    assert "Đã chuyển hồ sơ đến Ủy ban nhân dân huyện Đắk Hà" in out
    [moved] = await desk_leader.rows(Case)
    assert moved.state == "transferred" and moved.agency_id != case.agency_id
    assert any(f"#{case.id}" in m and "được chuyển đến" in m for m in home_leader.received())
    assert "không có quyền" in await head.say(f"/case {case.id}")
