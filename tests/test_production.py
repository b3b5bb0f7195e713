"""Safe starts: in ENV=production nothing falls back to a toy (terminal chat, sample directory,
demo data), and a bad setting is one line that never repeats a secret."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import DEV_ENCRYPTION_KEY
from storage.identity import new_encryption_key

REAL_KEY = "Zq8" * 15
SMALL_DIRECTORY = """
agencies:
  - code: "51"
    name_vi: Ủy ban nhân dân tỉnh Quảng Ngãi
    name_en: Quang Ngai Provincial People's Committee
    kind: province
services:
  - code: CHUNG-THUC
    name_vi: Chứng thực
    name_en: Certification
    group: procedure
    offered_by: [province]
"""


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A shell in an empty folder with a new SQLite file, in development."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'prod.sqlite3'}")
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "ENV", "PSEUDONYM_KEY", "ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture
def production(shell: CliRunner, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ENV", "production")
    monkeypatch.setenv("PSEUDONYM_KEY", REAL_KEY)
    monkeypatch.setenv("ENCRYPTION_KEY", new_encryption_key())
    monkeypatch.setenv("CONTROLLER_CONTACT", "Sở Nội vụ, 01 Trần Hưng Đạo; 0255 000 000")
    return shell


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    return lines[0]


def agency_codes(tmp_path: Path) -> set[str]:
    with sqlite3.connect(tmp_path / "prod.sqlite3") as db:
        return {code for (code,) in db.execute("SELECT code FROM agency")}


@pytest.mark.parametrize("command", [["run"], ["chat"]])
def test_production_without_a_token_has_no_terminal_chat(
    production: CliRunner, command: list[str]
) -> None:
    result = production.invoke(app, command, input="/start\n")
    assert result.exit_code == 1
    line = one_line(result.output)
    assert "TELEGRAM_BOT_TOKEN" in line and "ZALO_BOT_TOKEN" in line


def test_production_with_an_empty_directory_names_the_import_command(
    production: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The token is never used: the database is checked before any messenger is contacted."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "987654321:AAF-realistic-token-value")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")
    for command in (["run"], ["summary"], ["officers", "invite", "62-SNV"]):
        result = production.invoke(app, command)
        assert result.exit_code == 1, command
        assert "feedbackbot directory import" in one_line(result.output)
    assert agency_codes(tmp_path) == set(), "the sample is never loaded in production"

    (tmp_path / "real.yaml").write_text(SMALL_DIRECTORY, encoding="utf-8")
    assert production.invoke(app, ["directory", "import", "real.yaml"]).exit_code == 0
    assert production.invoke(app, ["summary"]).exit_code == 0
    assert agency_codes(tmp_path) == {"51"}


def test_development_still_loads_the_sample(shell: CliRunner, tmp_path: Path) -> None:
    assert shell.invoke(app, ["summary"]).exit_code == 0
    assert {"62", "615-MC"} <= agency_codes(tmp_path)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PSEUDONYM_KEY", "change-me-SECRETPART-0123456789abcdefghijk"),
        ("PSEUDONYM_KEY", "SECRETPART"),
        ("TELEGRAM_BOT_TOKEN", "123456:ABC-your-token-SECRETPART"),
        ("ENCRYPTION_KEY", "SECRETPART-not-a-key"),
        ("ENCRYPTION_KEY", DEV_ENCRYPTION_KEY),
        ("ZALO_BOT_TOKEN", "your-token-SECRETPART"),
        ("CONTROLLER_CONTACT", "dulieucanhan@example.org"),
    ],
)
def test_a_placeholder_secret_is_one_line_without_its_value(
    production: CliRunner, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    for command in (["run"], ["summary"], ["directory", "import", "real.yaml"]):
        result = production.invoke(app, command)
        assert result.exit_code == 1
        line = one_line(result.output)
        assert name in line and "SECRETPART" not in line and value not in line, line


def test_every_bad_setting_is_its_own_line(
    production: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEB_PORT", "SECRETPART")
    monkeypatch.setenv("RETENTION_DAYS", "0")
    result = production.invoke(app, ["run"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and "SECRETPART" not in result.output
    assert {line.split(": ")[1] for line in lines} == {"WEB_PORT", "RETENTION_DAYS"}


def test_demo_seed_refuses_in_production(production: CliRunner, tmp_path: Path) -> None:
    result = production.invoke(app, ["demo", "seed", "--ratings", "10", "--reports", "1"])
    assert result.exit_code == 1
    assert "ENV=production" in one_line(result.output)
    assert not (tmp_path / "prod.sqlite3").exists(), "nothing was written"


def test_the_sample_is_replaced_by_a_reimport(shell: CliRunner, tmp_path: Path) -> None:
    assert shell.invoke(app, ["summary"]).exit_code == 0
    (tmp_path / "real.yaml").write_text(SMALL_DIRECTORY, encoding="utf-8")
    kept = shell.invoke(app, ["directory", "import", "real.yaml"])
    assert kept.exit_code == 0 and "62-SNV" in agency_codes(tmp_path)
    replaced = shell.invoke(app, ["directory", "import", "real.yaml", "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert "Đã xóa" in replaced.output
    assert agency_codes(tmp_path) == {"51"}


def test_a_replace_that_would_lose_history_changes_nothing(
    shell: CliRunner, tmp_path: Path
) -> None:
    seeded = shell.invoke(app, ["demo", "seed", "--ratings", "50", "--reports", "2"])
    assert seeded.exit_code == 0
    before = agency_codes(tmp_path)
    (tmp_path / "real.yaml").write_text(SMALL_DIRECTORY, encoding="utf-8")
    refused = shell.invoke(app, ["directory", "import", "real.yaml", "--replace"])
    assert refused.exit_code == 1
    with sqlite3.connect(tmp_path / "prod.sqlite3") as db:
        (rated,) = db.execute(
            "SELECT agency.code FROM rating JOIN agency ON agency.id = rating.agency_id"
        ).fetchone()
    assert "--replace" in refused.output and rated in refused.output
    assert agency_codes(tmp_path) == before, "all or nothing: not even the new entry"
