"""Building a province from the field's libraries: `directory scaffold` and `directory
successors` write files that import cleanly."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner
from vietnam_provinces import Province, Ward

from bot.cli import app
from bot.config import SAMPLE_DIRECTORY, Settings
from storage import agencies
from storage.db import make_engine, make_sessionmaker
from storage.directory import DirectoryFile, read_directory
from storage.ratings import add_rating
from storage.scaffold import scaffold
from tests.conftest import KONTUM_2022, kontum_as_today
from tests.test_directory_changes import rating_at


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A shell in an empty folder with no database yet."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'map.sqlite3'}")
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    return CliRunner()


def test_scaffold_of_today_s_quang_ngai_imports_with_its_96_communes(
    shell: CliRunner, tmp_path: Path
) -> None:
    written = shell.invoke(
        app, ["directory", "scaffold", "--province", "51", "--output", "qn.yaml"]
    )
    assert written.exit_code == 0, written.output
    text = (tmp_path / "qn.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Khung danh mục theo cơ cấu hiện hành")
    directory = read_directory(tmp_path / "qn.yaml")
    assert directory.province.name_vi == "tỉnh Quảng Ngãi"
    assert [level.kind for level in directory.levels] == ["province", "commune"]

    loaded = shell.invoke(app, ["directory", "import", "qn.yaml"])
    assert loaded.exit_code == 0, loaded.output
    with sqlite3.connect(tmp_path / "map.sqlite3") as db:
        communes = db.execute("SELECT code, name_vi FROM agency WHERE kind = 'commune'").fetchall()
        per_unit = db.execute(
            "SELECT p.code, count(*) FROM agency c JOIN agency p ON c.parent_id = p.id"
            " WHERE p.kind = 'commune' GROUP BY p.code"
        ).fetchall()
        kinds = {k for (k,) in db.execute("SELECT DISTINCT kind FROM agency")}
    assert len(communes) == 96
    names = {name for _, name in communes}
    assert {
        "Ủy ban nhân dân phường Kon Tum",
        "Ủy ban nhân dân xã Đăk Hà",
        "Ủy ban nhân dân xã Kon Plông",
        "Ủy ban nhân dân đặc khu Lý Sơn",
    } <= names
    assert ("51-23500", "Ủy ban nhân dân xã Đăk Hà") in communes, "official codes, prefixed"
    assert len(per_unit) == 96 and {count for _, count in per_unit} == {2}
    assert {"centre", "department", "police", "commune_centre", "commune_police"} <= kinds
    assert (directory.intake, directory.inspectorate) == ("51-TTPVHCC", "51-TTR")
    assert "\nintake: 51-TTPVHCC\ninspectorate: 51-TTR\n" in text, "in the header, to edit"
    with sqlite3.connect(tmp_path / "map.sqlite3") as db:
        named = db.execute(
            "SELECT i.name_vi, t.name_vi FROM directoryheader h"
            " JOIN agency i ON i.code = h.intake JOIN agency t ON t.code = h.inspectorate"
        ).fetchall()
    assert named == [
        ("Trung tâm Phục vụ hành chính công tỉnh Quảng Ngãi", "Thanh tra tỉnh Quảng Ngãi")
    ]


def test_scaffold_of_an_unknown_province_says_so(shell: CliRunner) -> None:
    result = shell.invoke(app, ["directory", "scaffold", "--province", "62"])
    assert result.exit_code == 1 and "Mã 62 không có trong danh sách" in result.output


def test_successors_map_every_2022_kon_tum_commune_into_today_s_quang_ngai(
    shell: CliRunner, tmp_path: Path
) -> None:
    """Every commune of the 2022 file finds its successor; the districts (a level abolished in
    2025) are listed by name; the linked file imports over today's skeleton."""
    old = kontum_as_today(tmp_path / "kontum-2022.yaml")
    assert "successor" not in old.read_text(encoding="utf-8")
    result = shell.invoke(app, ["directory", "successors", str(old)])
    assert result.exit_code == 0, result.output
    unmapped = [line.strip() for line in result.output.splitlines() if line.startswith("  ")]
    assert len(unmapped) == 10 and all(" huyện " in n or " thành phố " in n for n in unmapped)
    assert "Ủy ban nhân dân huyện Đắk Hà" in unmapped

    directory = read_directory(old)
    successors = {a.code: a.successor for a in directory.agencies}
    communes = [a for a in directory.agencies if a.kind == "commune"]
    assert communes and all(successors[a.code] for a in communes)
    assert successors["23521"] == "51-23500", "Hà Mòn went into Đăk Hà"
    assert successors["62"] == "51"
    copy = tmp_path / "commented.yaml"
    shutil.copyfile(KONTUM_2022, copy)
    shell.invoke(app, ["directory", "successors", str(copy)])
    written = copy.read_text(encoding="utf-8")
    assert written == KONTUM_2022.read_text(encoding="utf-8"), "comments and layout kept"

    shell.invoke(app, ["directory", "scaffold", "--province", "51", "--output", "qn.yaml"])
    assert shell.invoke(app, ["directory", "import", "qn.yaml"]).exit_code == 0
    linked = shell.invoke(app, ["directory", "import", str(old)])
    assert linked.exit_code == 0, linked.output
    with sqlite3.connect(tmp_path / "map.sqlite3") as db:
        [(name,)] = db.execute(
            "SELECT s.name_vi FROM agency a JOIN agency s ON a.successor_id = s.id"
            " WHERE a.code = '23521'"
        ).fetchall()
    assert name == "Ủy ban nhân dân xã Đăk Hà"


@pytest.mark.slow
def test_posters_for_every_counter_the_directory_names(
    shell: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today's Quảng Ngãi serves at its provincial centre and at each commune's service centre
    (its `counters`), not at a People's Committee or a police station."""
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "quangngai_feedback_bot")
    assert shell.invoke(app, ["directory", "import", str(SAMPLE_DIRECTORY)]).exit_code == 0
    every = shell.invoke(app, ["qr", "--all-desks", "-o", "posters", "--dpi", "50"])
    assert every.exit_code == 0, every.output
    names = sorted(p.stem.split("_")[0] for p in (tmp_path / "posters").glob("*.png"))
    assert len(names) == 97 and names[0] == "51-21025-TTPVHCC" and "51-TTPVHCC" in names


@pytest.mark.parametrize("province", [int(p.code) for p in Province.iter_all()])
def test_every_province_of_today_scaffolds_a_valid_directory(province: int) -> None:
    """Any of the 34 (cities too) gives a file the importer accepts, one People's Committee,
    service centre and police per commune-level unit."""
    directory = DirectoryFile.model_validate(scaffold(province))
    units = list(Ward.iter_by_province(province))
    kinds = Counter(a.kind for a in directory.agencies)
    assert kinds["commune"] == kinds["commune_centre"] == kinds["commune_police"] == len(units)
    assert directory.province.name_vi.split(" ")[0] in ("tỉnh", "thành")


def test_a_summary_reads_as_of_the_structure_asked(shell: CliRunner, tmp_path: Path) -> None:
    """Today's Quảng Ngãi with Kon Tum 2022 as history, three 2024 ratings at Hà Mòn: today
    they count under Đăk Hà, as of 2024 under Hà Mòn itself."""
    for path in (SAMPLE_DIRECTORY, KONTUM_2022):
        assert shell.invoke(app, ["directory", "import", str(path)]).exit_code == 0
    asyncio.run(rate_ha_mon(f"sqlite+aiosqlite:///{tmp_path / 'map.sqlite3'}", count=3))
    period = ["summary", "--period", "2024-01-01..2026-11-30"]
    today = shell.invoke(app, period)
    assert today.exit_code == 0, today.output
    assert "Ủy ban nhân dân xã Đăk Hà" in today.output and "Hà Mòn" not in today.output
    before = shell.invoke(app, [*period, "--as-of", "2024-12-31"])
    assert "Ủy ban nhân dân xã Hà Mòn" in before.output and "Đăk Hà" not in before.output
    wrong = shell.invoke(app, [*period, "--as-of", "hôm qua"])
    assert wrong.exit_code != 0


async def rate_ha_mon(url: str, *, count: int) -> None:
    db = make_engine(url)
    sessions = make_sessionmaker(db, Settings(_env_file=None).identity_keys())
    try:
        async with sessions() as session, session.begin():
            ha_mon = await agencies.agency_by_code("23521", session=session)
            service = await agencies.service_by_code("CHUNG-THUC", session=session)
            assert ha_mon is not None and service is not None
            for _ in range(count):
                rating = rating_at(ha_mon, service)
                rating.created_at = datetime(2024, 5, 6, 2, tzinfo=UTC)
                await add_rating(rating, session=session)
    finally:
        await db.dispose()
