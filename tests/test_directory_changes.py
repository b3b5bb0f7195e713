"""A directory that changes: the import shows its diff first, retires what the file marks
retired or no longer lists, and keeps the history of what it retires."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import Runtime
from handlers.casework.handover import Handover, hand_over
from handlers.flow import Turn
from storage.directory import import_directory, read_directory
from storage.models import Agency, Assignment, Case, Official, Rating, Service
from storage.ratings import add_rating
from tests.casework import bulk_cases, invite_code, officer
from tests.conftest import TWO_LEVELS, Chat
from tests.dialogue import number_of, options

TODAY = date(2026, 11, 30)


def changed_directory(tmp_path: Path) -> Path:
    """The two-level sample a year on: a renamed department, a new commune, Sông Hai merged
    into Núi Một on 1 July 2025, the home-affairs procedure no longer listed."""
    data: dict[str, Any] = yaml.safe_load(TWO_LEVELS.read_text(encoding="utf-8"))
    by_code = {a["code"]: a for a in data["agencies"]}
    by_code["99-SNV"]["name_vi"] = "Sở Nội vụ tỉnh Thử Nghiệm (tên mới)"
    by_code["99002"].update(valid_to=date(2025, 7, 1), successor="99001")
    data["agencies"].append(
        {
            "code": "99003",
            "name_vi": "Ủy ban nhân dân xã Đồi Ba",
            "name_en": "Doi Ba Commune People's Committee",
            "kind": "commune",
            "parent": "99",
        }
    )
    data["services"] = [s for s in data["services"] if s["code"] != "NOI-VU"]
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A shell whose database holds the two-level sample, imported from the command line."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'change.sqlite3'}")
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    runner = CliRunner()
    first = runner.invoke(app, ["directory", "import", str(TWO_LEVELS)])
    assert first.exit_code == 0 and "Thêm mới 10" in first.output, first.output
    return runner


def test_a_dry_run_shows_the_diff_and_keeps_nothing(shell: CliRunner, tmp_path: Path) -> None:
    path = str(changed_directory(tmp_path))
    dry = shell.invoke(app, ["directory", "import", path, "--retire-unlisted", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Thêm mới: 99003" in dry.output
    assert "Cập nhật: 99-SNV" in dry.output
    assert "Ngừng hoạt động (vẫn giữ lịch sử): 99002, NOI-VU" in dry.output
    assert "Chạy thử: chưa lưu thay đổi nào" in dry.output
    again = shell.invoke(app, ["directory", "import", path, "--retire-unlisted", "--dry-run"])
    assert "Thêm mới: 99003" in again.output, "the dry run kept nothing"

    done = shell.invoke(app, ["directory", "import", path, "--retire-unlisted"])
    assert done.exit_code == 0 and "Chạy thử" not in done.output
    assert "Ngừng hoạt động (vẫn giữ lịch sử): 99002, NOI-VU" in done.output
    repeat = shell.invoke(app, ["directory", "import", path, "--retire-unlisted"])
    assert "Thêm mới 0, cập nhật 0, ngừng hoạt động 0" in repeat.output


def test_without_the_flag_what_the_file_leaves_out_stays(shell: CliRunner, tmp_path: Path) -> None:
    done = shell.invoke(app, ["directory", "import", str(changed_directory(tmp_path))])
    assert "Ngừng hoạt động (vẫn giữ lịch sử): 99002" in done.output
    assert "NOI-VU" not in done.output


async def test_a_retired_commune_leaves_the_pickers_and_keeps_its_ratings(
    two_levels: Chat, tmp_path: Path
) -> None:
    chat = two_levels
    async with chat.runtime.sessions() as session, session.begin():
        song_hai = await session.scalar(select(Agency).where(Agency.code == "99002"))
        service = await session.scalar(select(Service).where(Service.code == "TRO-CAP"))
        assert song_hai is not None and service is not None
        await add_rating(rating_at(song_hai, service), session=session)
        result = await import_directory(
            read_directory(changed_directory(tmp_path)), today=date(2026, 11, 30), session=session
        )
    assert result.retired == ["99002"]

    out = await chat.say(number_of(await chat.say("/start"), "Đánh giá"))
    out = await chat.say(number_of(out, "Cơ quan cấp xã"))
    assert "phường Sông Hai" not in out and "xã Núi Một" in out and "xã Đồi Ba" in out
    out = await chat.say("song hai")
    assert "Không tìm thấy cơ quan nào" in out
    [rating] = await chat.rows(Rating)
    [kept] = [a for a in await chat.rows(Agency) if a.code == "99002"]
    assert rating.agency_id == kept.id and kept.valid_to == date(2025, 7, 1)
    [successor] = [a for a in await chat.rows(Agency) if a.code == "99001"]
    assert kept.successor_id == successor.id


async def test_a_retired_agency_s_deep_link_is_refused(two_levels: Chat, tmp_path: Path) -> None:
    chat = two_levels
    async with chat.runtime.sessions() as session, session.begin():
        await import_directory(
            read_directory(changed_directory(tmp_path)), today=date(2026, 11, 30), session=session
        )
    out = await chat.say("/start r_99002_TRO-CAP")
    assert "Không xác định được cơ quan" in out
    assert "Ủy ban nhân dân xã Núi Một" not in "".join(options(out))


def test_a_successor_missing_everywhere_is_refused(shell: CliRunner, tmp_path: Path) -> None:
    data: dict[str, Any] = yaml.safe_load(TWO_LEVELS.read_text(encoding="utf-8"))
    data["agencies"][-1]["successor"] = "51-00000"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = shell.invoke(app, ["directory", "import", str(path)])
    assert result.exit_code == 1 and "51-00000" in result.output


def merged_2022(sample: Path, tmp_path: Path) -> Path:
    """The 2022 sample with Hà Mòn merged into Đắk Hà town and Đắk Hà's desk closed."""
    data: dict[str, Any] = yaml.safe_load(sample.read_text(encoding="utf-8"))
    by_code = {a["code"]: a for a in data["agencies"]}
    by_code["23521"].update(valid_to=date(2025, 7, 1), successor="23500")
    by_code["615-MC"]["valid_to"] = date(2025, 7, 1)
    path = tmp_path / "merged.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def rating_at(agency: Agency, service: Service) -> Rating:
    return Rating(
        agency_id=agency.id or 0,
        service_id=service.id or 0,
        channel="console",
        score_access=4,
        score_procedure=4,
        score_conduct=5,
        score_result=4,
        timeliness="on_time",
        extra_papers="no",
        trips=1,
        submission="in_person",
        unofficial_payment="no",
        created_at=datetime(2025, 3, 1, 2, 0, tzinfo=UTC),
    )


async def test_officers_of_a_retired_agency_are_told_and_its_cases_pass_on(
    runtime: tuple[Runtime, list[tuple[str, str]]], sample_directory: Path, tmp_path: Path
) -> None:
    """Hà Mòn merged into its successor, Đắk Hà's one-stop desk gone with the district level:
    their officers lose access, Hà Mòn's case goes to the successor, the desk's to intake."""
    rt, output = runtime
    commune = await officer(rt, output, "ha-mon-chair", "23521", "leader")
    desk = await officer(rt, output, "desk-head", "615-MC", "leader")
    successor = await officer(rt, output, "dak-ha-chair", "23500", "leader")
    intake = await officer(rt, output, "home-affairs", "62-SNV", "leader")
    opened = [datetime(2026, 11, 20, 2, 0, tzinfo=UTC)]
    await bulk_cases(rt, opened, agency="23521")
    await bulk_cases(rt, opened, agency="615-MC")

    path = merged_2022(sample_directory, tmp_path)

    async def job(turn: Turn) -> None:
        result = await import_directory(read_directory(path), today=TODAY, session=turn.session)
        assert sorted(result.retired) == ["23521", "615-MC"]
        assert await hand_over(turn, result.retired) == Handover(cases=2, officers=2)

    await rt.engine.run_job(job)
    await rt.dispatcher.deliver_due()
    told = commune.received()[-1]
    assert "Ủy ban nhân dân xã Hà Mòn đã ngừng hoạt động" in told
    assert "chuyển đến Ủy ban nhân dân thị trấn Đắk Hà" in told
    assert "chuyển đến bộ phận tiếp nhận" not in desk.received()[-1]
    assert "Sở Nội vụ tỉnh Kon Tum" in desk.received()[-1], "no successor: intake"
    assert "không có quyền" in await commune.say("/cases")
    assert "không có quyền" in await desk.say("/cases")
    assert "được chuyển đến cơ quan" in successor.received()[-1]
    assert "được chuyển đến cơ quan" in intake.received()[-1]
    async with rt.sessions() as session:
        query = select(Agency.code, Case.state).join(Case, Case.agency_id == Agency.id)
        rows = (await session.execute(query)).all()
    assert sorted(rows) == [("23500", "transferred"), ("62-SNV", "transferred")]

    stale = await invite_code(rt, "23521", "leader")
    out = await commune.say(f"/join {stale}")
    assert "Ủy ban nhân dân xã Hà Mòn đã ngừng hoạt động theo danh mục cơ quan" in out
    admin = await officer(rt, output, "home-affairs-admin", "62-SNV", "admin")
    out = await admin.say("/invite 23521 leader")
    assert "không nhận thêm cán bộ" in out and "/join" not in out


async def test_an_official_moves_to_another_agency_with_the_history(
    consented: Chat, sample_directory: Path, tmp_path: Path
) -> None:
    """Listed under another agency, an official is the same person: the earlier reassignment
    stays in their history and the pickers list them under the new agency."""
    chat = consented
    async with chat.runtime.sessions() as session, session.begin():
        official = await session.scalar(select(Official).where(Official.code == "615-MC-CV1"))
        assert official is not None and official.id is not None
        session.add(
            Assignment(
                official_id=official.id,
                new_post="Công chức tiếp nhận hồ sơ đất đai",
                effective_on=date(2026, 3, 1),
                decision_number="15/QĐ-UBND",
                recorded_at=datetime(2026, 3, 1, 2, tzinfo=UTC),
            )
        )
    path = moved_official(sample_directory, tmp_path)
    async with chat.runtime.sessions() as session, session.begin():
        result = await import_directory(read_directory(path), today=TODAY, session=session)
    assert result.updated == ["615-MC-CV1"] and result.added == []
    async with chat.runtime.sessions() as session:
        moved = await session.scalar(select(Official).where(Official.code == "615-MC-CV1"))
        home = await session.scalar(select(Agency).where(Agency.code == "62-SNV"))
        history = (await session.scalars(select(Assignment))).all()
    assert moved is not None and home is not None and moved.agency_id == home.id
    assert [a.official_id for a in history] == [moved.id]

    name = official_name(path, "615-MC-CV1")
    out = await chat.say(number_of(await chat.say("/report"), "Sách nhiễu"))
    out = await chat.say(number_of(await chat.say("dak ha"), "Bộ phận Một cửa huyện Đắk Hà"))
    assert name not in out
    await chat.say("/cancel")
    out = await chat.say(number_of(await chat.say("/report"), "Sách nhiễu"))
    out = await chat.say(number_of(await chat.say("so noi vu"), "Sở Nội vụ"))
    assert name in out


def moved_official(sample: Path, tmp_path: Path) -> Path:
    """The 2022 sample with an officer of Đắk Hà's desk moved to the Department of Home
    Affairs."""
    data: dict[str, Any] = yaml.safe_load(sample.read_text(encoding="utf-8"))
    by_code = {a["code"]: a for a in data["agencies"]}
    desk = by_code["615-MC"]["officials"]
    [person] = [o for o in desk if o["code"] == "615-MC-CV1"]
    desk.remove(person)
    by_code["62-SNV"]["officials"].append(person)
    path = tmp_path / "moved.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def official_name(path: Path, code: str) -> str:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return next(
        o["name"] for a in data["agencies"] for o in a.get("officials", []) if o["code"] == code
    )
