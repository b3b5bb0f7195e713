"""Schema management: a new file gets its schema, an out-of-date one is refused."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from typer.testing import CliRunner

from bot.channels.console import CHANNEL, ConsoleChannel
from bot.cli import app
from bot.runtime import open_runtime
from storage.db import make_engine
from storage.identity import IdentityKeys, new_encryption_key
from storage.schema import MIGRATIONS, UPGRADE_COMMAND, SchemaOutdated, ensure_schema, upgrade
from tests.conftest import Chat, Clock, make_settings

KEYS = IdentityKeys(b"test-lookup-key", [new_encryption_key().encode()])


async def test_new_database_gets_the_schema_and_wal(tmp_path: Path) -> None:
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}")
    try:
        assert await ensure_schema(db, KEYS) is True
        assert await ensure_schema(db, KEYS) is False
        async with db.connect() as connection:
            mode = await connection.scalar(text("PRAGMA journal_mode"))
            timeout = await connection.scalar(text("PRAGMA busy_timeout"))
        assert mode == "wal" and timeout == 30000
    finally:
        await db.dispose()


async def test_out_of_date_database_is_refused_with_the_fixing_command(tmp_path: Path) -> None:
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await ensure_schema(db, KEYS)
        async with db.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
        with pytest.raises(SchemaOutdated, match=UPGRADE_COMMAND):
            await ensure_schema(db, KEYS)
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
    assert upgraded.exit_code == 0, upgraded.output
    assert "Ran migration 0002: reports, cases, officers" in upgraded.output
    assert "Ran migration 0001" not in upgraded.output
    steps = len(list(ScriptDirectory.from_config(config).walk_revisions())) - 1
    assert f"now the newest ({steps} steps run)" in upgraded.output
    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0 and "already the newest; nothing to upgrade" in again.output
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


@pytest.mark.slow
def test_commands_keep_library_log_lines_quiet_unless_verbose(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'logs.sqlite3'}",
        "LANG": "en_US.UTF-8",
    }

    def upgrade_output(*options: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot", *options, "db", "upgrade"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout + done.stderr

    quiet = upgrade_output()
    assert "steps run" in quiet and "alembic" not in quiet and "INFO" not in quiet
    assert "INFO alembic" in upgrade_output("--verbose")


async def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'u.sqlite3'}")
    try:
        await upgrade(db, KEYS)
        await upgrade(db, KEYS)
        assert await ensure_schema(db, KEYS) is False
    finally:
        await db.dispose()


_PLAIN_ROWS = """
INSERT INTO citizen (channel, external_id, pseudonym, locale, consent_version, consented_at,
    created_at, news, unreachable)
    VALUES ('console', '734561289', 'p-old', 'vi', '2026-11', '2026-11-01', '2026-11-01', 0, 0);
INSERT INTO conversation (channel, chat_id, state, locale, data, offered, updated_at)
    VALUES ('console', '734561289', 'start.menu', 'vi', '{}', '{}', '2026-11-01');
INSERT INTO outboxmessage (channel, chat_id, payload, status, attempts, next_attempt_at,
    created_at) VALUES ('console', '734561289', '{"text": "Xin chào"}', 'pending', 0,
    '2026-11-30', '2026-11-30');
"""


def _database_at_0005(path: Path) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{path}")
    command.upgrade(config, "0005")
    with sqlite3.connect(path) as connection:
        connection.executescript(_PLAIN_ROWS)


async def test_an_upgrade_hashes_and_seals_the_ids_an_older_database_kept_in_plain_text(
    tmp_path: Path, clock: Clock
) -> None:
    database = tmp_path / "test.sqlite3"
    _database_at_0005(database)
    settings = make_settings(tmp_path)
    db = make_engine(settings.database_url)
    try:
        with pytest.raises(RuntimeError, match="ENCRYPTION_KEY"):
            await upgrade(db, None)  # type: ignore[arg-type]
        await upgrade(db, settings.identity_keys())
    finally:
        await db.dispose()
    assert b"734561289" not in database.read_bytes()

    output: list[tuple[str, str]] = []
    channel = ConsoleChannel(write=lambda chat, said: output.append((chat, said)))
    rt = await open_runtime(settings, {CHANNEL: channel}, clock=clock)
    try:
        await rt.dispatcher.deliver_due()
        assert ("734561289", "Xin chào\n") in output, "a pending reply still reaches the chat"
        out = await Chat(rt, output, "734561289").say("/mydata")
        assert "Đồng ý xử lý dữ liệu" in out, "the person is found by the hash of their id"
    finally:
        await rt.close()


def test_buttons_waiting_in_conversations_move_to_their_own_table(tmp_path: Path) -> None:
    """Migration 0007: notification buttons sent before it keep working (their tokens move out
    of the recipient's conversation, which other chats' turns no longer touch)."""
    path = tmp_path / "test.sqlite3"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{path}")
    command.upgrade(config, "0006")
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO conversation (channel, chat_ref, state, locale, data, offered, "
            "updated_at) VALUES ('telegram', 'ref-1', 'menu', 'vi', ?, '{}', '2026-12-01')",
            ('{"actions": {"Xy12": {"a0": ["case", "5", "Mở hồ sơ"]}}, "drafts": {}}',),
        )
    command.upgrade(config, "head")
    with sqlite3.connect(path) as connection:
        tokens = connection.execute(
            "SELECT channel, chat_ref, token, targets FROM notifytoken"
        ).fetchall()
        [data] = connection.execute("SELECT data FROM conversation").fetchone()
    assert [(*row[:3], json.loads(row[3])) for row in tokens] == [
        ("telegram", "ref-1", "Xy12", {"a0": ["case", "5", "Mở hồ sơ"]})
    ]
    assert json.loads(data) == {"drafts": {}}
