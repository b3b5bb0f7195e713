"""The command line an administrator uses: demo data, summary, export, posters, invites."""

from __future__ import annotations

import codecs
import re
import sqlite3
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from PIL import Image
from typer.testing import CliRunner

from bot.cli import app
from handlers.periods import DECREE_09_CUTOFF, last_full_month, parse_period


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "kontum_feedback_bot")
    runner = CliRunner()
    seeded = runner.invoke(app, ["demo", "seed", "--ratings", "3000", "--reports", "30"])
    assert seeded.exit_code == 0, seeded.output
    return runner


def test_summary_prints_the_province_and_one_agency(shell: CliRunner) -> None:
    province = shell.invoke(app, ["summary", "--period", "2025-11-29..2026-11-30"])
    assert province.exit_code == 0 and "Toàn tỉnh" in province.output
    assert "Xếp hạng – Ủy ban nhân dân cấp xã" in province.output
    desk = shell.invoke(
        app, ["summary", "--period", "2025-11-29..2026-11-30", "--agency", "615-mc"]
    )
    assert desk.exit_code == 0 and "Bộ phận Một cửa huyện Đắk Hà" in desk.output


def test_summary_periods_follow_decree_09_unless_calendar_is_asked(shell: CliRunner) -> None:
    reporting = shell.invoke(app, ["summary", "--period", "2026-Q3"])
    assert reporting.exit_code == 0 and "15/06/2026–14/09/2026" in reporting.output
    calendar = shell.invoke(app, ["summary", "--period", "2026-Q3", "--calendar"])
    assert calendar.exit_code == 0 and "01/07/2026–30/09/2026" in calendar.output


def test_export_writes_xlsx_and_csv(shell: CliRunner, tmp_path: Path) -> None:
    for file_format, name in (("xlsx", "e.xlsx"), ("csv", "e.zip")):
        result = shell.invoke(
            app,
            [
                "export",
                "--from",
                "2025-01-01",
                "--to",
                "2026-12-31",
                "--format",
                file_format,
                "-o",
                name,
            ],
        )
        assert result.exit_code == 0, result.output
        assert "3000 lượt đánh giá" in result.output
    assert openpyxl.load_workbook(tmp_path / "e.xlsx", read_only=True).sheetnames[0] == "Đánh giá"
    with zipfile.ZipFile(tmp_path / "e.zip") as archive:
        assert "Tổng hợp.csv" in archive.namelist()


def test_export_defaults_to_the_last_full_month_and_names_what_it_wrote(
    shell: CliRunner, tmp_path: Path
) -> None:
    last = last_full_month(date.today())
    result = shell.invoke(app, ["export"])
    assert result.exit_code == 0, result.output
    written = tmp_path / f"export-{last.start}-{last.end}.xlsx"
    assert written.exists() and str(written.name) in result.output
    assert last.label() in result.output
    csv = shell.invoke(app, ["export", "--format", "csv", "-o", "all.csv"])
    assert csv.exit_code == 0, csv.output
    assert not (tmp_path / "all.csv").exists(), "a ZIP is not named .csv"
    assert "all.zip" in csv.output and "tệp ZIP gồm các bảng CSV" in csv.output
    assert zipfile.is_zipfile(tmp_path / "all.zip")


def test_export_one_table_as_a_plain_csv_for_a_period(shell: CliRunner, tmp_path: Path) -> None:
    result = shell.invoke(app, ["export", "--period", "2026-Q3", "--table", "ratings", "-o", "r"])
    assert result.exit_code == 0, result.output
    content = (tmp_path / "r.csv").read_bytes()
    assert content.startswith(codecs.BOM_UTF8 + "Thời điểm,Mã cơ quan".encode())
    assert "01/07/2026–30/09/2026" in result.output
    assert len(content.decode().splitlines()) > 100


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["export", "--from", "2026-01-01"], "Cần dùng --from và --to cùng nhau"),
        (["export", "--table", "officials"], "Không có bảng “officials”"),
        (["export", "--period", "someday"], "Kỳ không hợp lệ: “someday”"),
        (["summary", "--period", "someday"], "Kỳ không hợp lệ: “someday”"),
    ],
)
def test_bad_command_line_input_is_refused_in_command_line_words(
    shell: CliRunner, args: list[str], said: str
) -> None:
    result = shell.invoke(app, args)
    assert result.exit_code == 1
    assert said in result.output and "/summary" not in result.output


def test_summary_says_which_month_it_shows(shell: CliRunner, tmp_path: Path) -> None:
    today = date.today()
    seeded = shell.invoke(app, ["summary"])
    first_day = DECREE_09_CUTOFF  # a reporting month begins on the cut-off day
    expected = "tháng trước" if today.day == first_day else "Kỳ báo cáo: tháng này"
    assert seeded.exit_code == 0 and expected in seeded.output
    empty = CliRunner().invoke(
        app, ["summary"], env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"}
    )
    assert empty.exit_code == 0, empty.output
    assert "Tháng này chưa có lượt đánh giá nào" in empty.output
    this_month = parse_period("month", today, DECREE_09_CUTOFF)
    assert this_month is not None and this_month.previous().label() in empty.output


@pytest.mark.slow
def test_posters_for_a_desk_and_every_desk(shell: CliRunner, tmp_path: Path) -> None:
    one = shell.invoke(app, ["qr", "615-MC", "--service", "CHUNG-THUC"])
    assert one.exit_code == 0
    poster = (
        tmp_path
        / "posters"
        / "615-MC_bo-phan-mot-cua-huyen-dak-ha_chung-thuc-ban-sao-chu-ky-hop-dong.png"
    )
    assert poster.read_bytes().startswith(b"\x89PNG") and str(poster.name) in one.output
    screen = shell.invoke(app, ["qr", "615-MC", "-o", "screen", "--dpi", "100"])
    assert screen.exit_code == 0, screen.output
    [small] = (tmp_path / "screen").glob("615-MC*.png")
    with Image.open(poster) as print_size, Image.open(small) as screen_size:
        assert print_size.width == 2 * screen_size.width, "--dpi sets the resolution"
    refused = shell.invoke(app, ["qr", "62-STP", "--service", "CHUNG-THUC"])
    assert refused.exit_code == 1 and "không cung cấp dịch vụ" in refused.output
    assert "Không tạo áp phích nào" in refused.output
    every = shell.invoke(app, ["qr", "--all-desks", "--format", "pdf", "-o", "pdf", "--dpi", "50"])
    assert every.exit_code == 0
    pdfs = list((tmp_path / "pdf").glob("*.pdf"))
    assert len(pdfs) > 40 and pdfs[0].read_bytes().startswith(b"%PDF")
    assert (tmp_path / "pdf" / "615-MC_bo-phan-mot-cua-huyen-dak-ha.pdf").exists()


def test_posters_without_a_bot_username_name_the_setting(
    shell: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_USERNAME")
    result = shell.invoke(app, ["qr", "--all-desks"])
    assert result.exit_code == 1
    assert "Chưa đặt TELEGRAM_BOT_USERNAME" in result.output and "Cú pháp" not in result.output
    assert not (tmp_path / "posters").exists()


def test_invites_name_the_role_in_the_operators_language(shell: CliRunner) -> None:
    result = shell.invoke(app, ["officers", "invite", "615-MC", "--role", "leader"])
    assert result.exit_code == 0
    assert "vai trò lãnh đạo" in result.output and "/join " in result.output
    assert "https://t.me/kontum_feedback_bot?start=join_" in result.output
    unknown = shell.invoke(app, ["officers", "invite", "615-MC", "--official", "NOPE"])
    assert unknown.exit_code == 1 and "Không có công chức mã NOPE" in unknown.output


def test_the_terminal_chat_saves_the_files_it_is_sent_and_prints_where(
    shell: CliRunner, tmp_path: Path
) -> None:
    invite = shell.invoke(app, ["officers", "invite", "62-SNV", "--role", "admin"])
    match = re.search(r"/join (\S+)", invite.output)
    assert match is not None, invite.output
    export = "/export 2026-01-01..2026-06-30 csv\n"
    typed = f"/join {match[1]}\n{export}{export}"
    chatted = shell.invoke(app, ["chat", "--files", "saved"], input=typed)
    assert chatted.exit_code == 0, chatted.output
    first, second = (
        tmp_path / "saved" / "phan-anh-danh-gia-2026-01-01-2026-06-30.zip",
        (tmp_path / "saved" / "phan-anh-danh-gia-2026-01-01-2026-06-30-1.zip"),
    )
    assert str(first) in chatted.output and str(second) in chatted.output
    assert zipfile.is_zipfile(first) and zipfile.is_zipfile(second)


def test_run_without_a_token_chats_in_the_terminal_and_stores_the_rating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's first command: with no token, a whole rating is typed in a terminal."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    database = tmp_path / "run.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    answers = ["/start", "1", "/start r_615-MC_CHUNG-THUC", *["4"] * 5]
    answers += ["2", "2", "2", "1", "2", "1", "1"]  # on time, no papers, 1 trip, desk, no payment
    result = CliRunner().invoke(app, ["run"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "Chưa có mã truy cập của ứng dụng nhắn tin nào" in result.output
    assert "Đánh giá của Ông/Bà đã được ghi nhận" in result.output
    with sqlite3.connect(database) as connection:
        [(stored,)] = connection.execute("SELECT count(*) FROM rating").fetchall()
    assert stored == 1


def test_help_loads_no_heavy_library() -> None:
    """What keeps `--help` quick (timed by bench/cli_help.py): the command line imports the
    database, messenger, web and plotting libraries only when a command runs."""
    heavy = ("sqlalchemy", "telegram", "matplotlib", "uvicorn", "pydantic_settings", "httpx")
    probe = f"import sys, bot.cli; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
    shown = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=True
    )
    assert "export" in shown.stdout and "--verbose" in shown.stdout


def test_export_as_of_a_structure_names_each_row_s_unit_in_it(
    shell: CliRunner, tmp_path: Path
) -> None:
    result = shell.invoke(
        app,
        ["export", "--period", "2026", "--table", "ratings", "--as-of", "2025-07-01", "-o", "r"],
    )
    assert result.exit_code == 0, result.output
    header = (tmp_path / "r.csv").read_text("utf-8-sig").splitlines()[0]
    assert "Mã cơ quan theo cơ cấu ngày 01/07/2025" in header
    wrong = shell.invoke(app, ["export", "--as-of", "2025-13-01"])
    assert wrong.exit_code != 0 and "2025-13-01" in wrong.output
