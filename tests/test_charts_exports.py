"""Charts render off the event loop with Vietnamese names; exports open, round-trip, neutralise
formulas and carry no identity."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from bot import demo
from bot.charts import chart_data, chart_maker, draw, render_png
from bot.exports import ExportRequest, open_tables, write_export
from bot.posters import Poster, draw_poster, telegram_link
from bot.runtime import Runtime
from handlers.admin.summary import build_summary, summary_text
from handlers.clock import LOCAL_ZONE
from handlers.periods import Period
from handlers.texts import Texts
from storage.models import Rating, Report, Service
from tests.casework import citizen, file_report
from tests.conftest import Chat, Clock

World = tuple[Runtime, list[tuple[str, str]]]
YEAR = Period(date(2025, 11, 29), date(2026, 11, 30))


@pytest.fixture
async def seeded(runtime: World, clock: Clock) -> Runtime:
    rt = runtime[0]
    await demo.seed(rt.sessions, ratings=2000, reports=40, seed_value=3, now=clock.now)
    return rt


async def test_the_chart_names_agencies_with_diacritics(seeded: Runtime) -> None:
    async with seeded.sessions() as session:
        data = await chart_data(session, YEAR.start, YEAR.end, None, "vi", 5)
    figure = draw(data)
    labels = [label.get_text() for axes in figure.axes for label in axes.get_yticklabels()]
    assert any("Ủy ban nhân dân" in label for label in labels)
    assert any(c in "".join(labels) for c in "ĐắơưạỹỦ")
    assert "Tỷ lệ hài lòng" in figure.get_suptitle()
    assert render_png(figure).startswith(b"\x89PNG\r\n\x1a\n")


async def test_the_chart_draws_the_agencies_the_text_ranks_in_its_order(
    seeded: Runtime, clock: Clock
) -> None:
    minimum = 20
    async with seeded.sessions() as session:
        summary = await build_summary(
            session, YEAR, None, now=clock.now, min_sample=minimum, locale="vi"
        )
        data = await chart_data(session, YEAR.start, YEAR.end, None, "vi", minimum)
    text = summary_text(Texts("vi"), summary, "Toàn tỉnh", minimum)
    agency_lines = r"^(\d+)\. (.+?): [^\n]*; mạnh nhất: "  # not the groups' own ranking
    ranked_in_text = re.findall(agency_lines, text, re.MULTILINE)
    assert len(ranked_in_text) > 3 and data.agency_names == [n for _, n in ranked_in_text]
    small = {summary.names[r.key] for r in summary.agencies if r.rank is None}
    assert small, "some agencies have fewer ratings than the minimum"
    assert not small & set(data.agency_names), "no unranked agency in the chart"
    assert "không phải Chỉ số hài lòng (SIPAS) chính thức" in data.title
    assert "không phải Chỉ số hài lòng (SIPAS) chính thức" in text
    assert re.search(r"hành chính\*[^:]*: \d{1,3},\d%", text), "a decimal comma"
    english = summary_text(Texts("en"), summary, "Province", minimum)
    assert re.search(r"administrative procedures\*[^:]*: \d{1,3}\.\d%", english)
    figure = draw(data)
    cells = [t.get_text() for t in figure.axes[0].texts]
    assert len(cells) == len(data.agency_names) * 5


async def test_other_chats_are_answered_while_a_chart_renders(
    seeded: Runtime, runtime: World
) -> None:
    """A ticker and a citizen's turns keep running while the chart is drawn in its thread."""
    make = chart_maker(seeded.sessions)
    gaps: list[float] = []
    answered: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async def chat_meanwhile() -> None:
        chat = Chat(seeded, runtime[1], "citizen-busy")
        for line in ("/start", "/help", "/language", "/help"):
            await chat.say(line)
            answered.append(time.perf_counter())

    async def render() -> float:
        started = time.perf_counter()
        png = await make(
            {
                "start": YEAR.start.isoformat(),
                "end": YEAR.end.isoformat(),
                "agency_ids": None,
                "locale": "vi",
            }
        )
        assert png.content.startswith(b"\x89PNG")
        done.set()
        return time.perf_counter() - started

    ticking = asyncio.create_task(ticker())
    elapsed, _ = await asyncio.gather(render(), chat_meanwhile())
    await ticking
    assert elapsed > 0.1, "the chart takes long enough for the measurement to mean something"
    assert max(gaps) < elapsed / 2, "the event loop was never blocked for the chart's duration"
    assert len(answered) == 4


async def export(rt: Runtime, tmp_path: Path, file_format: str, free_text: bool) -> Path:
    path = tmp_path / f"export.{'xlsx' if file_format == 'xlsx' else 'zip'}"
    tables = open_tables(path, file_format)
    await write_export(rt.sessions, tables, ExportRequest(YEAR, None, free_text, "vi"))
    tables.close()
    return path


SHEETS = [
    "Đánh giá",
    "Phản ánh",
    "Hồ sơ",
    "Diễn biến hồ sơ",
    "Biện pháp đối với công chức",
    "Tổng hợp",
    "Tổng hợp theo dịch vụ",
]


async def test_the_xlsx_opens_with_sheets_headers_and_frozen_rows(
    seeded: Runtime, tmp_path: Path
) -> None:
    path = await export(seeded, tmp_path, "xlsx", free_text=True)
    book = openpyxl.load_workbook(path, read_only=False)
    assert book.sheetnames == SHEETS
    ratings = book["Đánh giá"]
    headers = [c.value for c in ratings[1]]
    assert headers[:3] == ["Thời điểm", "Mã cơ quan", "Cơ quan"] and "Góp ý" in headers
    assert ratings.freeze_panes == "A2"
    assert ratings.max_row == 2001
    comments = [row[-1] for row in ratings.iter_rows(min_row=2) if row[-1].value]
    [formula_like] = {c.value for c in comments if c.value.startswith("=")}
    assert formula_like == "=Cần cải thiện thái độ phục vụ", "shown as typed, no apostrophe"
    assert all(c.data_type == "s" for c in comments), "a formula-looking comment is text"
    assert isinstance(ratings["A2"].value, datetime), "times are dates a spreadsheet can sort"
    summary = book["Tổng hợp"]
    headers = [c.value for c in summary[1]]
    assert headers[0] == "Lĩnh vực" and headers[1].startswith("Mã cơ quan theo cơ cấu ngày ")
    assert summary["A2"].value == "thủ tục hành chính", "the headline sector comes first"
    assert summary["C2"].value == "Toàn bộ phạm vi xuất" and summary["G2"].number_format == "0.0%"
    async with seeded.sessions() as session:
        counted = await session.execute(
            select(Service.code, func.count())
            .join(Rating, Rating.service_id == Service.id)
            .group_by(Service.code)
        )
        expected = {code: count for code, count in counted}
    by_service = book["Tổng hợp theo dịch vụ"]
    headers = [c.value for c in by_service[1]][:4]
    assert headers == ["Lĩnh vực", "Mã dịch vụ", "Dịch vụ", "Số lượt đánh giá"]
    rows = list(by_service.iter_rows(min_row=2, values_only=True))
    assert {row[1]: row[3] for row in rows} == expected
    assert all(0 <= row[4] <= 1 for row in rows)
    assert {row[0] for row in rows} >= {"thủ tục hành chính", "y tế"}, "sectors named apart"


async def test_the_csv_round_trips_and_neutralises_formulas(
    seeded: Runtime, tmp_path: Path
) -> None:
    path = await export(seeded, tmp_path, "csv", free_text=True)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == [f"{name}.csv" for name in SHEETS]
        raw = archive.read("Đánh giá.csv")
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 2001 and rows[0][0] == "Thời điểm"
    async with seeded.sessions() as session:
        first = await session.scalar(select(Rating.created_at).order_by(Rating.id).limit(1))
    assert first is not None
    assert rows[1][0] == first.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M"), "Vietnam time"
    comments = {row[-1] for row in rows[1:]}
    assert "'=Cần cải thiện thái độ phục vụ" in comments
    assert "Dịch vụ công trực tuyến toàn trình" in {cell for row in rows for cell in row}
    assert not any(c.startswith(("=", "+", "-", "@")) for row in rows for c in row if c)


async def test_a_rating_stored_before_online_was_split_still_exports(
    seeded: Runtime, tmp_path: Path
) -> None:
    async with seeded.sessions() as session, session.begin():
        rating = await session.scalar(select(Rating).order_by(Rating.id).limit(1))
        assert rating is not None
        rating.submission = "online"
    path = await export(seeded, tmp_path, "csv", free_text=False)
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("Đánh giá.csv").decode("utf-8-sig")
    assert "Dịch vụ công trực tuyến (ghi nhận trước khi phân biệt toàn trình, một phần)" in raw


async def test_no_export_carries_an_identity(runtime: World, tmp_path: Path) -> None:
    rt, output = runtime
    reporter = await citizen(rt, output, "telegram-user-424242")
    await file_report(reporter, named=("Nguyễn Thị Hoa", "0912345678"))
    anonymous = await citizen(rt, output, "telegram-user-515151")
    await file_report(anonymous)
    async with rt.sessions() as session:
        named, unnamed = sorted(
            (await session.scalars(select(Report))).all(), key=lambda r: r.anonymous
        )
    for file_format in ("xlsx", "csv"):
        path = await export(rt, tmp_path, file_format, free_text=True)
        text = _all_text(path, file_format)
        for secret in ("424242", "515151", "Nguyễn Thị Hoa", "0912345678"):
            assert secret not in text
        assert unnamed.handle in text, "an anonymous report is shown by its own handle"
        assert named.handle not in text, "a named report carries no handle to join"


def _all_text(path: Path, file_format: str) -> str:
    if file_format == "csv":
        with zipfile.ZipFile(path) as archive:
            return "".join(archive.read(n).decode("utf-8-sig") for n in archive.namelist())
    book = openpyxl.load_workbook(path, read_only=True)
    return "".join(
        str(cell)
        for sheet in book
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    )


def test_a_poster_names_its_desk_and_carries_a_code_per_messenger() -> None:
    link = telegram_link("kontum_feedback_bot", "615-MC", "CHUNG-THUC")
    assert link == "https://t.me/kontum_feedback_bot?start=r_615-MC_CHUNG-THUC"
    t = Texts("vi")
    only_telegram = draw_poster(Poster("Bộ phận Một cửa huyện Đắk Hà", None, link, None), t)
    both = draw_poster(
        Poster("Bộ phận Một cửa huyện Đắk Hà", "Chứng thực", link, "https://zalo.me/123456789"), t
    )
    texts = [text.get_text() for text in both.texts]
    assert "Bộ phận Một cửa huyện Đắk Hà" in texts and "Chứng thực" in texts
    assert t("poster.zalo") in texts and link in texts
    assert (len(only_telegram.axes), len(both.axes)) == (1, 2)
    assert t("poster.zalo") not in [text.get_text() for text in only_telegram.texts]
