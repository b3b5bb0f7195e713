"""Rooms: a group chat may read only what is meant for everyone in it. There the bot answers
/register and /help, refuses every other command in one short line, ignores plain messages and
buttons, and sends one-line notices that never carry what a citizen or an officer wrote."""

from __future__ import annotations

import pytest

from bot.runtime import Runtime
from handlers import router
from handlers.access import REFUSALS_AUDITED, REFUSALS_SAID_IN_GROUP
from handlers.casework.escalation import run_due
from handlers.messages import Attachment, AttachmentKind
from handlers.texts import Texts
from storage.models import AgencyChat, AuditEntry, Case, Invite, Officer
from tests.casework import (
    PHOTO,
    Group,
    citizen,
    file_report,
    invite_code,
    officer,
    registered_group,
)
from tests.conftest import Chat, Clock
from tests.dialogue import number_of

World = tuple[Runtime, list[tuple[str, str]]]
REFUSED = Texts("vi")("rooms.private_only")
IN_GROUPS = {"register", "help"}


async def refused_in_group(rows: list[AuditEntry]) -> list[AuditEntry]:
    return [a for a in rows if a.action == "wrong_room" and not a.allowed]


@pytest.mark.parametrize("command", [*sorted(set(router.COMMANDS) - IN_GROUPS), "nosuchcommand"])
async def test_a_group_refuses_every_command_but_register_and_help(
    runtime: World, command: str
) -> None:
    """Even an administrator, who may do everything in a private chat, is refused in a group:
    one short line, audited, nothing else."""
    rt, output = runtime
    admin = await officer(rt, output, "intake", "62-SNV", "admin")
    group = Group(rt, output, "group-snv")
    out = await group.say_as(admin, f"/{command} 1")
    assert out.strip() == REFUSED
    [entry] = await refused_in_group(await group.rows(AuditEntry))
    assert entry.detail == f"/{command}" and entry.actor.startswith("officer:")
    assert await group.rows(AgencyChat) == []


async def test_join_in_a_group_changes_nothing(runtime: World) -> None:
    rt, output = runtime
    code = await invite_code(rt, "615-MC", "leader")
    newcomer = Chat(rt, output, "newcomer")
    group = Group(rt, output, "group-mc")
    for command in (f"/join {code}", f"/start join_{code}"):
        assert (await group.say_as(newcomer, command)).strip() == REFUSED
    assert await group.rows(Officer) == []
    [invite] = await group.rows(Invite)
    assert invite.used_at is None and invite.used_by is None
    assert "đã tham gia xử lý phản ánh" in await newcomer.say(f"/join {code}")


async def test_help_in_a_group_is_the_short_group_help(runtime: World) -> None:
    rt, output = runtime
    member = await citizen(rt, output, "citizen-1")
    out = await Group(rt, output, "group-mc").say_as(member, "/help")
    assert out.strip() == Texts("vi")("rooms.group_help")
    assert "/report" not in out and "Mời Ông/Bà chọn chức năng" not in out


async def test_register_works_in_a_group_only(runtime: World) -> None:
    rt, output = runtime
    leader = await officer(rt, output, "leader-mc", "615-MC", "leader")
    assert (await leader.say("/register")).strip() == Texts("vi")("rooms.group_only")
    assert await leader.rows(AgencyChat) == []
    await registered_group(rt, output, "group-mc", leader)
    [chat] = await leader.rows(AgencyChat)
    assert chat.chat_ref == Chat(rt, output, "group-mc").ref()


async def test_plain_messages_and_buttons_in_a_group_get_no_answer(runtime: World) -> None:
    """Pressed buttons are written down (a refused press); plain messages are not for the bot."""
    rt, output = runtime
    leader = await officer(rt, output, "leader-mc", "615-MC", "leader")
    group = await registered_group(rt, output, "group-mc", leader)
    for text in ("xin chào", "1", "Đồng ý"):
        assert await group.say_as(leader, text) == ""
    photo = Attachment(AttachmentKind.PHOTO, "f", "photo.jpg", "image/jpeg", len(PHOTO), PHOTO)
    assert await group.send(group.incoming_from(leader, attachments=(photo,))) == ""
    assert await group.send(group.incoming_from(leader, choice_token="abc:a0")) == ""
    [press] = await refused_in_group(await group.rows(AuditEntry))
    assert press.detail == "abc:a0"


@pytest.mark.slow
async def test_groups_get_one_line_notices_and_never_what_was_written(
    runtime: World, clock: Clock
) -> None:
    """Report, question, answer, added information, decision, reopening, transfer, reminder
    and review: the agencies' groups hear of each in one line naming only the case, while the
    leaders' private chats keep the full text."""
    rt, output = runtime
    leader = await officer(rt, output, "leader-mc", "615-MC", "leader")
    other = await officer(rt, output, "leader-tp", "62-STP", "leader")
    district = await officer(rt, output, "leader-615", "615", "leader")
    groups = [
        await registered_group(rt, output, "group-mc", leader),
        await registered_group(rt, output, "group-tp", other),
        await registered_group(rt, output, "group-615", district),
    ]
    reporter = await citizen(rt, output, "citizen-1")
    what = "Cán bộ đòi 500 nghìn đồng mới nhận hồ sơ tại quầy số 4."
    receipt = await file_report(
        reporter, named=("Trần Văn Lộc", "0905111222"), what=what, photo=True
    )
    [case] = await reporter.rows(Case)
    clock.advance(days=1, hours=8)  # one working day before the acknowledgement is due
    await run_due(rt.engine.run_job)
    await rt.dispatcher.deliver_due()

    question, answer, added = "Quầy nào, mấy giờ?", "Quầy số 4 lúc 9 giờ.", "Có người làm chứng."
    card = await leader.say(f"/case {case.id}")
    card = await leader.say(number_of(card, "Tiếp nhận"))
    await leader.say(number_of(card, "Hỏi người phản ánh"))
    await leader.say(question)
    out = await reporter.say(f"/status {receipt}")
    out = await reporter.say(number_of(out, "Trả lời câu hỏi"))
    out = await reporter.say(answer)
    out = await reporter.say(number_of(out, "Bổ sung thông tin"))
    await reporter.say(added)
    explanation = "Đã xác minh, không phát hiện vi phạm."
    card = await leader.say(f"/case {case.id}")
    card = await leader.say(number_of(card, "Ra kết quả xử lý"))
    card = await leader.say(number_of(card, "Phản ánh không có cơ sở"))
    card = await leader.say(explanation)
    await leader.say(number_of(card, "Xác nhận"))
    out = await reporter.say(f"/status {receipt}")
    await reporter.say(number_of(out, "Chưa được giải quyết"))
    card = await leader.say(f"/case {case.id}")
    card = await leader.say(number_of(card, "Chuyển cơ quan khác"))
    card = await leader.say("tu phap")
    await leader.say(number_of(card, "Sở Tư pháp"))
    for n in range(3):
        await file_report(await citizen(rt, output, f"c-{n}"))

    heard = [m.strip() for group in groups for m in group.received()]
    secrets = (what, question, answer, added, explanation, "Trần Văn Lộc", "0905111222")
    for message in heard:
        assert "\n" not in message, message
        assert not any(secret in message for secret in (*secrets, "Phạm Văn Thắng")), message
    notice = Texts("vi")("rooms.case_notice", case=case.id)
    assert heard.count(notice) >= 6, heard  # new, reminder, answer, added, reopened, transfer
    assert notice in [m.strip() for m in groups[1].received()]
    assert any("hồ sơ xem xét bố trí công tác khác" in m for m in groups[2].received())
    private = "\n".join(leader.received())
    assert answer in private and added in private and "Phạm Văn Thắng" in private


async def test_a_flood_of_refusals_is_answered_and_audited_only_up_to_the_limits(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    member = await citizen(rt, output, "citizen-1")
    group = Group(rt, output, "group-mc")
    flood = range(REFUSALS_AUDITED + 5)
    answers = [(await group.say_as(member, "/summary")).strip() for _ in flood]
    assert answers.count(REFUSED) == REFUSALS_SAID_IN_GROUP
    assert set(answers) == {REFUSED, ""}
    assert len(await refused_in_group(await group.rows(AuditEntry))) == REFUSALS_AUDITED
    clock.advance(hours=1, seconds=1)
    assert (await group.say_as(member, "/summary")).strip() == REFUSED
    assert len(await refused_in_group(await group.rows(AuditEntry))) == REFUSALS_AUDITED + 1


async def test_a_citizens_forged_presses_are_audited_without_their_id(runtime: World) -> None:
    rt, output = runtime
    member = await citizen(rt, output, "citizen-1")
    for n in range(REFUSALS_AUDITED + 5):
        await member.press(f"forged:{n}")
    rows = [a for a in await member.rows(AuditEntry) if not a.allowed]
    assert len(rows) == REFUSALS_AUDITED
    assert {a.action for a in rows} == {"stale_or_forged_button"}
    [actor] = {a.actor for a in rows}
    assert actor.startswith("console-user:") and "citizen-1" not in actor
    other = await citizen(rt, output, "citizen-2")
    await other.press("forged:x")
    assert len({a.actor for a in await other.rows(AuditEntry)}) == 2, "counted per person"
