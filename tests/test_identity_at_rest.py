"""Messenger ids at rest: a copy of the database files identifies nobody, and the bot still
reaches everyone, after a restart and after the encryption key is rotated."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.channels.console import CHANNEL, ConsoleChannel
from bot.cli import app
from bot.config import Settings
from bot.runtime import Runtime, open_runtime
from storage.identity import UnreadableId, keys_of, new_encryption_key
from storage.models import Citizen, Officer
from tests.casework import citizen, file_report, officer
from tests.conftest import Chat, Clock, make_settings
from tests.dialogue import number_of

REPORTER, NAMED, LEADER, GROUP = "734561289", "734561290", "812345678", "-1001987654321"
IDS = (REPORTER, NAMED, LEADER, GROUP)


def _as_stored(raw: str) -> list[bytes]:
    """How an id could sit in an SQLite file: as text, or as a big-endian integer."""
    number = int(raw)
    forms = [raw.encode()]
    for size in (4, 6, 8):
        if -(2 ** (8 * size - 1)) <= number < 2 ** (8 * size - 1):
            forms.append(number.to_bytes(size, "big", signed=True))
    return forms


def _files_of(database: Path) -> bytes:
    return b"".join(
        path.read_bytes() for path in database.parent.glob(database.name + "*") if path.is_file()
    )


async def _open(settings: Settings, clock: Clock) -> tuple[Runtime, list[tuple[str, str]]]:
    output: list[tuple[str, str]] = []
    channel = ConsoleChannel(write=lambda chat, said: output.append((chat, said)))
    runtime = await open_runtime(settings, {CHANNEL: channel}, clock=clock)
    return runtime, output


async def test_the_database_files_hold_no_messenger_id_and_the_bot_still_answers(
    tmp_path: Path, clock: Clock
) -> None:
    settings = make_settings(tmp_path)
    database = tmp_path / "test.sqlite3"
    rt, output = await _open(settings, clock)
    try:
        reporter = await citizen(rt, output, REPORTER)
        receipt = await file_report(reporter)
        await file_report(await citizen(rt, output, NAMED), named=("Lê Thị Mai", "0905123456"))
        leader = await officer(rt, output, LEADER, "615-MC", "leader")
        group = Chat(rt, output, GROUP)
        await group.send(group.incoming(command="register"))
        out = await leader.say("/case 1")
        out = await leader.say(number_of(out, "Tiếp nhận"))
        out = await leader.say(number_of(out, "Hỏi người phản ánh"))
        await leader.say("Ông/Bà đến quầy số mấy?")
        assert any("Ông/Bà đến quầy số mấy?" in m for m in reporter.received())
        stored = _files_of(database)  # the database and its WAL, as a copy taken now holds them
        assert len(stored) > 100_000
        for raw in IDS:
            for form in _as_stored(raw):
                assert form not in stored, f"{raw} is readable in the database files"
    finally:
        await rt.close()

    rt, output = await _open(settings, clock)
    try:
        again = Chat(rt, output, REPORTER)
        out = await again.say(f"/status {receipt}")
        assert "Chờ người phản ánh trả lời" in out, "found again after a restart"
        out = await again.say(number_of(out, "Trả lời câu hỏi"))
        await again.say("Quầy số 3.")
        assert any("Quầy số 3." in m for m in Chat(rt, output, LEADER).received())
    finally:
        await rt.close()


async def test_keys_rotate_reseals_every_id_and_the_old_key_alone_no_longer_opens_them(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key, new_key = new_encryption_key(), new_encryption_key()
    old = make_settings(tmp_path, encryption_key=old_key)
    rt, output = await _open(old, clock)
    try:
        receipt = await file_report(await citizen(rt, output, REPORTER))
        await officer(rt, output, LEADER, "615-MC", "leader")
    finally:
        await rt.close()

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", old.database_url)
    monkeypatch.setenv("ENCRYPTION_KEY", new_key)
    monkeypatch.setenv("ENCRYPTION_KEY_PREVIOUS", old_key)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    rotated = await asyncio.to_thread(CliRunner().invoke, app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "re-encrypted" in rotated.output

    rt, output = await _open(make_settings(tmp_path, encryption_key=new_key), clock)
    try:
        reporter = Chat(rt, output, REPORTER)
        out = await reporter.say(f"/status {receipt}")
        assert f"Phản ánh {receipt}" in out and "Chờ cơ quan tiếp nhận" in out
        leader = Chat(rt, output, LEADER)
        out = await leader.say("/case 1")
        await leader.say(number_of(out, "Tiếp nhận"))
        assert any("đã được cơ quan có thẩm quyền tiếp nhận" in m for m in reporter.received())
    finally:
        await rt.close()

    rt, output = await _open(make_settings(tmp_path, encryption_key=old_key), clock)
    try:
        async with rt.sessions() as session:
            sealed = [*(await session.scalars(select(Citizen.address))).all()]
            sealed += (await session.scalars(select(Officer.address))).all()
            with pytest.raises(UnreadableId):
                keys_of(session).unseal(sealed[0])
            with pytest.raises(UnreadableId):
                keys_of(session).unseal(sealed[1])
    finally:
        await rt.close()
    monkeypatch.setenv("ENCRYPTION_KEY", old_key)
    monkeypatch.delenv("ENCRYPTION_KEY_PREVIOUS")
    refused = await asyncio.to_thread(CliRunner().invoke, app, ["keys", "rotate"])
    assert refused.exit_code == 1 and "ENCRYPTION_KEY_PREVIOUS" in refused.output
