"""Officers' lifecycle: listed and revoked on the command line and by their leader in chat;
a revoked officer loses every access at once; an invite binds only an official of its agency."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.channels.console import CHANNEL, ConsoleChannel
from bot.cli import app
from bot.runtime import Runtime, open_runtime
from storage.models import AuditEntry, Case, CaseEvent, NotifyToken, Officer
from storage.officers import official_by_code, revoke
from tests.casework import CARD_ACTIONS, citizen, file_report, officer
from tests.conftest import Chat, make_settings
from tests.dialogue import number_of
from tests.test_reports import only

World = tuple[Runtime, list[tuple[str, str]]]


async def official_id(chat: Chat, code: str) -> int | None:
    async with chat.runtime.sessions() as session:
        found = await official_by_code(code, session=session)
    return found.id if found else None


async def _join_two(database_url: str, tmp_path: Path) -> None:
    """A leader of Đắk Hà's desk and an officer tied to their own directory entry."""
    output: list[tuple[str, str]] = []
    runtime = await open_runtime(
        make_settings(tmp_path, database_url=database_url),
        {CHANNEL: ConsoleChannel(write=lambda chat, text: output.append((chat, text)))},
    )
    try:
        await officer(runtime, output, "leader-mc", "615-MC", "leader")
        await officer(runtime, output, "thang", "615-MC", "officer", "615-MC-CV1")
        await officer(runtime, output, "intake", "62-SNV", "admin")
    finally:
        await runtime.close()


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    url = f"sqlite+aiosqlite:///{tmp_path / 'officers.sqlite3'}"
    asyncio.run(_join_two(url, tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def test_the_command_line_lists_officers_without_messenger_ids(shell: CliRunner) -> None:
    every = shell.invoke(app, ["officers", "list"])
    assert every.exit_code == 0, every.output
    assert "615-MC" in every.output and "62-SNV" in every.output
    assert "Phạm Văn Thắng" in every.output and "lãnh đạo" in every.output
    for messenger_id in ("leader-mc", "thang", "intake"):
        assert messenger_id not in every.output
    desk = shell.invoke(app, ["officers", "list", "615-MC"])
    assert desk.exit_code == 0 and "62-SNV" not in desk.output
    unknown = shell.invoke(app, ["officers", "list", "KHONG-CO"])
    assert unknown.exit_code == 1 and "KHONG-CO" in unknown.output


def test_the_command_line_revokes_an_officer(shell: CliRunner, tmp_path: Path) -> None:
    revoked = shell.invoke(app, ["officers", "revoke", "2"])
    assert revoked.exit_code == 0, revoked.output
    assert "Cán bộ mã 2" in revoked.output and "thu hồi" in revoked.output
    listed = shell.invoke(app, ["officers", "list", "615-MC"])
    rows = [line for line in listed.output.splitlines() if "615-MC-CV1" in line]
    assert len(rows) == 1 and "không" in rows[0]
    again = shell.invoke(app, ["officers", "revoke", "2"])
    assert again.exit_code == 0 and "không có gì thay đổi" in again.output
    missing = shell.invoke(app, ["officers", "revoke", "99"])
    assert missing.exit_code == 1 and "99" in missing.output

    with sqlite3.connect(tmp_path / "officers.sqlite3") as db:
        assert dict(db.execute("SELECT id, active FROM officer")) == {1: 1, 2: 0, 3: 1}
        revocations = db.execute("SELECT actor, detail FROM auditentry WHERE action = 'revoke'")
        assert revocations.fetchall() == [("cli", "officer:2")], "revoked once, audited once"


def test_the_command_line_binds_only_an_official_of_the_invites_agency(
    shell: CliRunner,
) -> None:
    own = shell.invoke(app, ["officers", "invite", "615-MC", "--official", "615-MC-CV1"])
    assert own.exit_code == 0 and "/join " in own.output
    elsewhere = shell.invoke(app, ["officers", "invite", "62-SNV", "--official", "615-MC-CV1"])
    assert elsewhere.exit_code == 1
    assert "615-MC-CV1 không thuộc Sở Nội vụ" in elsewhere.output
    assert "/join" not in elsewhere.output


async def test_an_admin_binds_only_an_official_of_the_invites_agency_in_chat(
    runtime: World,
) -> None:
    admin = await officer(*runtime, "admin-snv", "62-SNV", "admin")
    refused = await admin.say("/invite 62-SNV officer 615-MC-CV1")
    assert "615-MC-CV1 không thuộc Sở Nội vụ" in refused and "/join" not in refused
    assert "Không có công chức mã NOBODY" in await admin.say("/invite 615-MC officer NOBODY")
    out = await admin.say("/invite 615-MC officer 615-MC-CV1")
    [code] = re.findall(r"/join (\S+) cho bot", out)
    thang = Chat(*runtime, "thang")
    assert "đã tham gia" in await thang.say(f"/join {code}")
    [bound] = [o for o in await thang.rows(Officer) if o.chat_ref == thang.ref()]
    assert bound.official_id == await official_id(thang, "615-MC-CV1")


async def revoke_chat(chat: Chat) -> Officer:
    """End the access of the officer behind `chat`, as `feedbackbot officers revoke` does."""
    async with chat.runtime.sessions() as session, session.begin():
        [row] = [
            o for o in (await session.scalars(select(Officer))).all() if o.chat_ref == chat.ref()
        ]
        await revoke(row, by="cli", now=chat.runtime.engine._clock(), session=session)
    return row


async def refusals(chat: Chat, revoked: Officer) -> list[AuditEntry]:
    return [
        a
        for a in await chat.rows(AuditEntry)
        if not a.allowed and a.actor == f"officer:{revoked.id}"
    ]


@pytest.fixture
async def reported(runtime: World) -> tuple[Chat, Chat, Case]:
    """A desk leader who received an anonymous report about one of the desk's officials."""
    leader = await officer(*runtime, "leader-mc", "615-MC", "leader")
    reporter = await citizen(*runtime, "citizen-1")
    await file_report(reporter, photo=True)
    [case] = await reporter.rows(Case)
    return leader, reporter, case


@pytest.mark.parametrize("role", ["leader", "admin"])
async def test_a_revoked_officers_every_command_is_refused_and_audited(
    runtime: World, reported: tuple[Chat, Chat, Case], role: str
) -> None:
    _, reporter, case = reported
    agency = "615-MC" if role == "leader" else "62-SNV"
    gone = await officer(*runtime, f"gone-{role}", agency, role)
    revoked = await revoke_chat(gone)
    commands = (
        "/cases",
        f"/case {case.id}",
        "/review 1",
        "/summary",
        "/export",
        "/invite 615-MC officer",
        "/announce Thông báo thử",
        "/announcements",
        "/officers",
        "/officers 615-MC",
    )
    for command in commands:
        out = await gone.say(command)
        assert "không có quyền" in out, command
        assert "Hồ sơ #" not in out and "Tổng hợp" not in out, command
    assert len(await refusals(gone, revoked)) == len(commands)
    assert "Lệnh dành cho cán bộ" not in await gone.say("/help")
    assert (await only(reporter, Case)).state == "new"


@pytest.mark.parametrize("action", [*CARD_ACTIONS, "Danh sách hồ sơ"])
async def test_every_card_button_of_a_revoked_officer_is_refused_and_audited(
    reported: tuple[Chat, Chat, Case], action: str
) -> None:
    leader, reporter, case = reported
    card = await leader.say(f"/case {case.id}")
    if action != "Tiếp nhận":
        card = await leader.say(number_of(card, "Tiếp nhận"))
    state = (await only(reporter, Case)).state
    revoked = await revoke_chat(leader)
    out = await leader.say(number_of(card, action))
    assert "không có quyền" in out
    assert "Bằng chứng" not in out and "Hồ sơ #" not in out
    assert (await only(reporter, Case)).state == state
    assert len(await reporter.rows(CaseEvent)) == (1 if action == "Tiếp nhận" else 2)
    [refusal] = await refusals(leader, revoked)
    assert refusal.action == "officer.card" and refusal.case_id == case.id


async def test_a_revoked_officer_mid_decision_and_on_a_notification_is_refused(
    reported: tuple[Chat, Chat, Case],
) -> None:
    leader, reporter, case = reported
    [token] = [row.token for row in await leader.rows(NotifyToken) if row.chat_ref == leader.ref()]
    card = await leader.say(f"/case {case.id}")
    card = await leader.say(number_of(card, "Tiếp nhận"))
    outcome = await leader.say(number_of(card, "Ra kết quả xử lý"))
    revoked = await revoke_chat(leader)
    assert "không có quyền" in await leader.say(number_of(outcome, "Phản ánh có cơ sở"))
    assert "không có quyền" in await leader.press(f"{token}:a0")
    assert (await only(reporter, Case)).outcome is None
    assert len(await refusals(leader, revoked)) == 2


async def test_a_leader_lists_and_removes_the_agencys_officers_in_chat(runtime: World) -> None:
    leader = await officer(*runtime, "leader-mc", "615-MC", "leader")
    thang = await officer(*runtime, "thang", "615-MC", "officer", "615-MC-CV1")
    await officer(*runtime, "desk-admin", "615-MC", "admin")
    await officer(*runtime, "elsewhere", "611-MC", "officer")
    listed = await leader.say("/officers")
    assert "(3 người)" in listed and "Phạm Văn Thắng" in listed
    assert "611-MC" not in listed and "elsewhere" not in listed and "thang" not in listed
    for person in ("lãnh đạo", "quản trị"):
        out = await leader.say(number_of(listed, person))
        assert "Không thể thu hồi quyền của người này" in out
    confirm = await leader.say(number_of(listed, "Phạm Văn Thắng"))
    kept = await leader.say(number_of(confirm, "Không, giữ lại"))
    assert "(3 người)" in kept
    confirm = await leader.say(number_of(kept, "Phạm Văn Thắng"))
    assert "không xem và không xử lý được hồ sơ nào nữa" in confirm
    out = await leader.say(number_of(confirm, "Thu hồi quyền"))
    assert "Đã thu hồi quyền" in out and "(2 người)" in out
    assert "không có quyền" in await thang.say("/cases")
    [gone] = [o for o in await leader.rows(Officer) if o.chat_ref == thang.ref()]
    [leader_row] = [o for o in await leader.rows(Officer) if o.chat_ref == leader.ref()]
    revocations = [a for a in await leader.rows(AuditEntry) if a.action == "revoke"]
    assert [(a.actor, a.detail) for a in revocations] == [
        (f"officer:{leader_row.id}", f"officer:{gone.id}")
    ]


async def test_only_leaders_of_the_agency_and_admins_manage_officers(runtime: World) -> None:
    leader = await officer(*runtime, "leader-mc", "615-MC", "leader")
    clerk = await officer(*runtime, "clerk", "615-MC", "officer")
    other = await officer(*runtime, "leader-611", "611-MC", "leader")
    reporter = await citizen(*runtime, "citizen-1")
    for chat, command in (
        (leader, "/officers 611-MC"),
        (clerk, "/officers"),
        (reporter, "/officers"),
    ):
        assert "không có quyền" in await chat.say(command), command
    refused = [a.action for a in await leader.rows(AuditEntry) if not a.allowed]
    assert refused == ["officers"] * 3
    admin = await officer(*runtime, "intake", "62-SNV", "admin")
    assert "Không có cơ quan mã KHONG-CO" in await admin.say("/officers KHONG-CO")
    listed = await admin.say("/officers 611-MC")
    confirm = await admin.say(number_of(listed, "lãnh đạo"))
    assert "Đã thu hồi quyền" in await admin.say(number_of(confirm, "Thu hồi quyền"))
    assert "không có quyền" in await other.say("/cases")
