"""Schema management: a new file gets its schema, an out-of-date one is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from storage.db import make_engine
from storage.schema import MIGRATIONS, UPGRADE_COMMAND, SchemaOutdated, ensure_schema, upgrade


async def test_new_database_gets_the_schema_and_wal(tmp_path: Path) -> None:
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}")
    try:
        assert await ensure_schema(db) is True
        assert await ensure_schema(db) is False
        async with db.connect() as connection:
            mode = await connection.scalar(text("PRAGMA journal_mode"))
            timeout = await connection.scalar(text("PRAGMA busy_timeout"))
        assert mode == "wal" and timeout == 30000
    finally:
        await db.dispose()


async def test_out_of_date_database_is_refused_with_the_fixing_command(tmp_path: Path) -> None:
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await ensure_schema(db)
        async with db.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
        with pytest.raises(SchemaOutdated, match=UPGRADE_COMMAND):
            await ensure_schema(db)
    finally:
        await db.dispose()


def test_the_bot_refuses_an_old_schema_until_db_upgrade_is_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "old.sqlite3"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{database}")
    command.upgrade(config, "0001")  # a database from the first release

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    runner = CliRunner()
    refused = runner.invoke(app, ["chat"], input="")
    assert refused.exit_code == 1
    assert "0001" in refused.output and "feedbackbot db upgrade" in refused.output
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0 and "up to date" in upgraded.output
    chatted = runner.invoke(app, ["chat"], input="")
    assert chatted.exit_code == 0 and "About your personal data" not in chatted.output
    assert "Goodbye." in chatted.output


def test_a_missing_directory_file_is_refused_with_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    result = CliRunner().invoke(app, ["directory", "import", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1
    assert "Tệp danh mục không hợp lệ" in result.output and "missing.yaml" in result.output


async def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'u.sqlite3'}")
    try:
        await upgrade(db)
        await upgrade(db)
        assert await ensure_schema(db) is False
    finally:
        await db.dispose()
