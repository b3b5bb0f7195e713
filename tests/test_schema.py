"""Schema management: a new file gets its schema, an out-of-date one is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from storage.db import make_engine
from storage.schema import UPGRADE_COMMAND, SchemaOutdated, ensure_schema, upgrade


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


def test_cli_refuses_to_start_on_an_old_schema_and_upgrade_names_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    runner = CliRunner()
    result = runner.invoke(app, ["directory", "import", "missing.yaml"])
    assert result.exit_code == 1 and "missing.yaml" in result.output
    assert UPGRADE_COMMAND == "feedbackbot db upgrade"
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0 and "up to date" in result.output


async def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'u.sqlite3'}")
    try:
        await upgrade(db)
        await upgrade(db)
        assert await ensure_schema(db) is False
    finally:
        await db.dispose()
