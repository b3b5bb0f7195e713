"""Building a province from the field's libraries: `directory scaffold` and `directory
successors` write files that import cleanly."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage.directory import read_directory


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


def test_scaffold_of_an_unknown_province_says_so(shell: CliRunner) -> None:
    result = shell.invoke(app, ["directory", "scaffold", "--province", "62"])
    assert result.exit_code == 1 and "Mã 62 không có trong danh sách" in result.output
