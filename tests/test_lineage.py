"""Figures read as of a structure: 2022 ratings of Kon Tum's units count under today's Quảng
Ngãi units; a district's stay under its own name, marked as no longer existing."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.channels.console import CHANNEL, ConsoleChannel
from bot.config import SAMPLE_DIRECTORY, SAMPLE_HISTORY
from bot.exports import ExportRequest, open_tables, write_export
from bot.runtime import Runtime, open_runtime
from handlers.admin.summary import build_summary, summary_text
from handlers.lineage import Lineage, heir, roll_up, with_predecessors
from handlers.periods import Period
from handlers.texts import Texts
from storage.models import Agency, Service
from storage.ratings import add_rating
from tests.casework import officer
from tests.conftest import Chat, Clock, make_settings
from tests.test_directory_changes import rating_at

MERGER = date(2025, 7, 1)
YEARS = Period(date(2024, 1, 1), date(2026, 11, 30))


@pytest.fixture
def said() -> list[tuple[str, str]]:
    """What the bot wrote to each chat of `both`."""
    return []


@pytest.fixture
async def both(
    tmp_path: Path, clock: Clock, said: list[tuple[str, str]]
) -> AsyncIterator[Runtime]:
    """Today's Quảng Ngãi with Kon Tum 2022 as its history, as a new installation loads them,
    and ratings of 2024 at Hà Mòn (merged into Đăk Hà), of 2026 at Đăk Hà, and of 2024 at
    Đắk Hà district's one-stop desk (the district level is gone)."""
    settings = make_settings(
        tmp_path, directory_file=SAMPLE_DIRECTORY, directory_history=[SAMPLE_HISTORY]
    )
    console = ConsoleChannel(write=lambda chat, text: said.append((chat, text)), files=tmp_path)
    runtime = await open_runtime(settings, {CHANNEL: console}, clock=clock)
    async with runtime.sessions() as session, session.begin():
        by_code = {a.code: a for a in (await session.scalars(select(Agency))).all()}
        service = await session.scalar(select(Service).where(Service.code == "CHUNG-THUC"))
        assert service is not None
        for code, when, count in (
            ("23521", datetime(2024, 5, 6, 2, tzinfo=UTC), 3),
            ("51-23500", datetime(2026, 5, 6, 2, tzinfo=UTC), 2),
            ("615-MC", datetime(2024, 5, 6, 2, tzinfo=UTC), 4),
        ):
            for _ in range(count):
                rating = rating_at(by_code[code], service)
                rating.created_at = when
                await add_rating(rating, session=session)
    yield runtime
    await runtime.close()


async def ranking(runtime: Runtime, clock: Clock, **kwargs: object) -> tuple[dict[str, int], str]:
    """Ratings per agency listed in the summary, and the summary as the chat shows it."""
    async with runtime.reads() as session:
        summary = await build_summary(
            session, YEARS, None, now=clock.now, min_sample=1, locale="vi", **kwargs
        )
        lines = summary_text(Texts("vi"), summary, "Toàn tỉnh", 1)
    assert summary.overall.ratings == 9, "a roll-up moves figures, never loses or adds any"
    named = {summary.names[r.key]: r.indicators.ratings for r in summary.agencies}
    assert all(name in lines for name in named)
    return named, lines


async def test_2022_ratings_count_under_today_s_units(both: Runtime, clock: Clock) -> None:
    today, text = await ranking(both, clock)
    assert today["Ủy ban nhân dân xã Đăk Hà"] == 5, "Hà Mòn's 3 and Đăk Hà's 2"
    assert "Ủy ban nhân dân xã Hà Mòn" not in today
    assert today["Bộ phận Một cửa huyện Đắk Hà"] == 4
    assert "Bộ phận Một cửa huyện Đắk Hà (đã ngừng hoạt động)" in text
    assert "Xếp hạng theo nhóm cơ quan:\n1. Ủy ban nhân dân cấp xã: 100,0% (5 lượt)" in text, (
        "groups ranked with the labels of today's file; the desk's group is not one of them"
    )

    before, text = await ranking(both, clock, as_of=date(2024, 12, 31))
    assert before["Ủy ban nhân dân xã Hà Mòn"] == 3, "read in the 2022 structure"
    assert before["Ủy ban nhân dân xã Đăk Hà"] == 2
    assert "(đã ngừng hoạt động)" not in text


async def test_a_successor_s_own_summary_includes_its_predecessors(
    both: Runtime, clock: Clock
) -> None:
    async with both.reads() as session:
        dak_ha = await session.scalar(select(Agency).where(Agency.code == "51-23500"))
        assert dak_ha is not None and dak_ha.id is not None
        summary = await build_summary(
            session, YEARS, [dak_ha.id], now=clock.now, min_sample=1, locale="vi"
        )
    assert summary.overall.ratings == 5


chains = st.dictionaries(
    st.integers(0, 30),
    st.builds(
        Lineage,
        st.none() | st.integers(0, 30),
        st.none() | st.just(date(2020, 1, 1)),
        st.none() | st.just(MERGER),
    ),
)


@given(chains, st.dictionaries(st.integers(0, 30), st.integers(0, 50)))
def test_a_roll_up_keeps_every_rating_and_lands_on_a_unit_of_that_day(
    lineage: dict[int, Lineage], counts: dict[int, int]
) -> None:
    today = date(2026, 11, 30)
    rolled = roll_up({a: {"ratings": n} for a, n in counts.items()}, today, lineage)
    assert sum(f["ratings"] for f in rolled.values()) == sum(counts.values())
    for agency in counts:
        into = heir(agency, today, lineage)
        entry = lineage.get(into)
        looped = into == agency and entry is not None and entry.successor is not None
        assert entry is None or entry.exists_on(today) or entry.successor is None or looped
        assert agency in with_predecessors([into], today, lineage)


async def exported(runtime: Runtime, tmp_path: Path, as_of: date, sheet: str) -> list[list[str]]:
    """One table of a CSV export read in the structure of day `as_of`, header first."""
    path = tmp_path / "export.zip"
    tables = open_tables(path, "csv")
    request = ExportRequest(YEARS, None, False, "vi", as_of=as_of)
    await write_export(runtime.sessions, tables, request)
    tables.close()
    with zipfile.ZipFile(path) as archive:
        raw = archive.read(f"{sheet}.csv").decode("utf-8-sig")
    return list(csv.reader(io.StringIO(raw)))


HA_MON = ("23521", "Ủy ban nhân dân xã Hà Mòn")
DAK_HA = ("51-23500", "Ủy ban nhân dân xã Đăk Hà")
DISTRICT_DESK = ("615-MC", "Bộ phận Một cửa huyện Đắk Hà")


async def test_an_export_as_of_2025_keeps_each_2022_unit_beside_its_successor(
    both: Runtime, tmp_path: Path
) -> None:
    header, *rows = await exported(both, tmp_path, MERGER, "Đánh giá")
    assert header[1:6] == [
        "Mã cơ quan",
        "Cơ quan",
        "Mã cơ quan theo cơ cấu ngày 01/07/2025",
        "Cơ quan theo cơ cấu ngày 01/07/2025",
        "Tình trạng theo cơ cấu ngày 01/07/2025",
    ]
    units = Counter(tuple(row[1:6]) for row in rows)
    assert units == {
        (*HA_MON, *DAK_HA, "đã sáp nhập vào đơn vị kế thừa"): 3,
        (*DAK_HA, *DAK_HA, ""): 2,
        (*DISTRICT_DESK, *DISTRICT_DESK, "đã ngừng hoạt động, chưa có đơn vị kế thừa"): 4,
    }

    header, *rows = await exported(both, tmp_path, MERGER, "Tổng hợp")
    shown = {row[1]: (row[3], row[4], row[5]) for row in rows if row[1]}
    assert shown == {
        "51-23500": ("", "23521", "5"),
        "615-MC": ("đã ngừng hoạt động, chưa có đơn vị kế thừa", "", "4"),
    }, "figures roll up into the successor, which names the units it took over"


async def test_an_export_as_of_2024_reads_the_2022_structure(
    both: Runtime, tmp_path: Path
) -> None:
    """Nothing was merged yet; a unit that begins later is not marked as gone."""
    _, *rows = await exported(both, tmp_path, date(2024, 12, 31), "Đánh giá")
    units = Counter(tuple(row[1:6]) for row in rows)
    assert units == {
        (*HA_MON, *HA_MON, ""): 3,
        (*DAK_HA, *DAK_HA, ""): 2,
        (*DISTRICT_DESK, *DISTRICT_DESK, ""): 4,
    }


async def ratings_sent(chat: Chat, command: str, folder: Path) -> list[list[str]]:
    """The ratings table of the CSV export a command sends (the console channel of `both`
    writes the files it sends into `folder`)."""
    assert "Cú pháp" not in await chat.say(command)
    [archive] = [path for path in folder.iterdir() if path.suffix == ".zip"]  # noqa: ASYNC240
    with zipfile.ZipFile(archive) as files:
        raw = files.read("Đánh giá.csv").decode("utf-8-sig")
    return list(csv.reader(io.StringIO(raw)))


async def test_an_admin_picks_the_structure_of_a_summary_and_an_export_in_chat(
    both: Runtime, said: list[tuple[str, str]], tmp_path: Path
) -> None:
    admin = await officer(both, said, "intake", "51-SNV", "admin")
    today = await admin.say("/summary 2024-01-01..2026-11-30")
    assert "Số liệu tổng hợp theo cơ cấu tổ chức ngày 30/11/2026." in today
    assert "cơ cấu tổ chức trước đây (đến ngày 2025-06-30)" in today
    communes = "Xếp hạng – Ủy ban nhân dân cấp xã (chỉ xếp hạng khi có từ 30 lượt đánh giá):\n"
    assert communes + "  1 cơ quan chưa đủ" in today, "Hà Mòn counts under Đăk Hà"

    before = await admin.say("/summary 2024-01-01..2026-11-30 2025-06-30")
    assert "Số liệu tổng hợp theo cơ cấu tổ chức ngày 30/06/2025." in before
    assert communes + "  2 cơ quan chưa đủ" in before, "Hà Mòn and Đăk Hà apart"
    assert "cơ cấu tổ chức trước đây" not in before

    for command in ("/summary 2024 2025-13-01", "/export 2024 2025-02-30 csv"):
        assert "Cú pháp" in await admin.say(command), "a day that does not exist: the usage"

    header, *rows = await ratings_sent(
        admin, "/export 2024-01-01..2026-11-30 2025-07-01 csv", tmp_path
    )
    assert header[3] == "Mã cơ quan theo cơ cấu ngày 01/07/2025"
    assert {tuple(row[1:4]) for row in rows} >= {(*HA_MON, "51-23500")}


async def test_a_successor_s_own_export_holds_the_rows_of_the_units_merged_into_it(
    both: Runtime, said: list[tuple[str, str]], tmp_path: Path
) -> None:
    """Đăk Hà's leader took over Hà Mòn's cases; their file, like their summary, holds Hà
    Mòn's ratings too, and nobody else's."""
    leader = await officer(both, said, "leader", DAK_HA[0], "leader")
    _, *rows = await ratings_sent(leader, "/export 2024-01-01..2026-11-30 csv", tmp_path)
    assert Counter(tuple(row[1:3]) for row in rows) == {HA_MON: 3, DAK_HA: 2}
