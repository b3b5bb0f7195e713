"""Helpers for multi-party dialogue tests: officers who joined by invite, citizens who report."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime

from bot.channels.console import CHANNEL
from bot.runtime import Runtime
from handlers.casework.escalation import deadlines
from handlers.casework.states import State
from handlers.flow import Rules
from handlers.messages import ChatKind, ConversationKey, Incoming, split_command
from storage import agencies
from storage.models import Case, Report
from storage.officers import create_invite, official_by_code
from tests.conftest import Chat
from tests.dialogue import number_of

RECEIPT = re.compile(r"Mã tra cứu: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})")
CARD_ACTIONS = (
    "Tiếp nhận",
    "Hỏi người phản ánh",
    "Chuyển cơ quan khác",
    "Ra kết quả xử lý",
    "Kết thúc",
    "Xem bằng chứng",
)
"""The labels of a case card's actions, in Vietnamese."""
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def invite_code(
    runtime: Runtime, agency: str, role: str, official: str | None = None
) -> str:
    """An invite to `agency`, made the way `feedbackbot officers invite` makes it."""
    async with runtime.sessions() as session, session.begin():
        found = await agencies.agency_by_code(agency, session=session)
        person = await official_by_code(official, session=session) if official else None
        assert found is not None
        assert found.id is not None
        invite = await create_invite(
            found.id,
            role,
            official_id=person.id if person else None,
            now=runtime.engine._clock(),
            valid_days=7,
            session=session,
        )
    return invite.code


async def officer(
    runtime: Runtime,
    output: list[tuple[str, str]],
    chat_id: str,
    agency: str,
    role: str = "leader",
    official: str | None = None,
) -> Chat:
    """A person who joined `agency` with an invite."""
    chat = Chat(runtime, output, chat_id)
    out = await chat.say(f"/join {await invite_code(runtime, agency, role, official)}")
    assert "Ông/Bà đã tham gia xử lý phản ánh" in out
    return chat


async def citizen(runtime: Runtime, output: list[tuple[str, str]], chat_id: str) -> Chat:
    chat = Chat(runtime, output, chat_id)
    await chat.say("/start")
    await chat.say("1")
    return chat


async def report_until_evidence(
    chat: Chat,
    *,
    official: str = "Phạm Văn Thắng",
    category: str = "Sách nhiễu",
    threatened: bool = False,
    what: str = "Cán bộ yêu cầu nộp thêm giấy xác nhận không có trong danh mục niêm yết.",
    described: str | None = None,
) -> str:
    """A report about Đắk Hà's one-stop desk answered up to the evidence question; returns
    that question."""
    out = await chat.say("/report")
    out = await chat.say(number_of(out, category))
    out = await chat.say("dak ha")
    out = await chat.say(number_of(out, "Bộ phận Một cửa huyện Đắk Hà"))
    if described:
        out = await chat.say(number_of(out, "Mô tả người đó"))
        out = await chat.say(described)
    else:
        out = await chat.say(number_of(out, official))
    out = await chat.say(number_of(out, "Hôm nay"))
    out = await chat.say(what)
    return await chat.say(number_of(out, "Có" if threatened else "Không"))


async def file_report(
    chat: Chat,
    *,
    official: str = "Phạm Văn Thắng",
    category: str = "Sách nhiễu",
    threatened: bool = False,
    photo: bool = False,
    named: tuple[str, str] | None = None,
    what: str = "Cán bộ yêu cầu nộp thêm giấy xác nhận không có trong danh mục niêm yết.",
    described: str | None = None,
) -> str:
    """A whole report about an official of Đắk Hà's one-stop desk (picked from the list, or
    `described` in the citizen's words); returns the receipt code."""
    await report_until_evidence(
        chat,
        official=official,
        category=category,
        threatened=threatened,
        what=what,
        described=described,
    )
    if photo:
        out = await chat.send_photo(PHOTO)
        assert "Đã nhận tệp thứ 1" in out
    out = await chat.say("tiếp tục")
    if named:
        out = await chat.say(number_of(out, "Cung cấp họ tên"))
        out = await chat.say(named[0])
        out = await chat.say(named[1])
    else:
        out = await chat.say(number_of(out, "Ẩn danh"))
    assert "không phải đơn tố cáo" in out
    out = await chat.say(number_of(out, "Tôi đã hiểu"))
    assert "kiểm tra lại nội dung phản ánh" in out
    out = await chat.say(number_of(out, "Gửi phản ánh"))
    match = RECEIPT.search(out)
    assert match, out
    return match.group(1)


async def decide(leader: Chat, case_id: int, outcome: str) -> None:
    """The leader acknowledges the case if needed and records `outcome` with an answer."""
    out = await leader.say(f"/case {case_id}")
    if "Tiếp nhận" in out and "Ra kết quả" not in out:
        out = await leader.say(number_of(out, "Tiếp nhận"))
    out = await leader.say(number_of(out, "Ra kết quả xử lý"))
    out = await leader.say(number_of(out, outcome))
    out = await leader.say("Đã xác minh, không phát hiện vi phạm.")
    out = await leader.say(number_of(out, "Xác nhận"))
    assert "Đã ghi nhận kết quả" in out


class Group(Chat):
    """A group chat on the terminal channel: members speak in it, the chat is the group."""

    def incoming_from(self, member: Chat, **fields: object) -> Incoming:
        return Incoming(
            key=ConversationKey(CHANNEL, self.chat_id),
            update_id=uuid.uuid4().hex,
            user_id=member.chat_id,
            chat_kind=ChatKind.GROUP,
            **fields,  # type: ignore[arg-type]
        )

    async def say_as(self, member: Chat, text: str) -> str:
        """`member` types `text` in the group; what the group was sent in return."""
        command = split_command(text)
        if command is None:
            return await self.send(self.incoming_from(member, text=text))
        name, args = command
        return await self.send(self.incoming_from(member, command=name, command_args=args))


async def registered_group(
    runtime: Runtime, output: list[tuple[str, str]], chat_id: str, leader: Chat
) -> Group:
    """An agency's group chat, registered by its leader with /register."""
    group = Group(runtime, output, chat_id)
    assert "Nhóm này sẽ nhận thông báo ngắn" in await group.say_as(leader, "/register")
    return group


async def commend(chat: Chat, text: str, whom: str = "Cả bộ phận") -> None:
    """A commendation of Đắk Hà's one-stop desk (the whole desk, or the official `whom`)."""
    out = await chat.say("/commend")
    out = await chat.say("dak ha")
    out = await chat.say(number_of(out, "Bộ phận Một cửa huyện Đắk Hà"))
    out = await chat.say(number_of(out, whom))
    await chat.say(text)


async def bulk_cases(runtime: Runtime, opened: Sequence[datetime], agency: str = "615-MC") -> None:
    """New anonymous cases at `agency`, one opened at each moment, written straight through
    storage in one transaction (thousands in a second, where the chat takes minutes)."""
    async with runtime.sessions() as session, session.begin():
        found = await agencies.agency_by_code(agency, session=session)
        assert found is not None and found.id is not None
        reports = [
            Report(
                receipt=f"B-{uuid.uuid4().hex[:16]}",
                handle=uuid.uuid4().hex,
                category="harassment",
                agency_id=found.id,
                occurred_on=moment.date(),
                channel=CHANNEL,
                created_at=moment,
            )
            for moment in opened
        ]
        session.add_all(reports)
        await session.flush()
        for report in reports:
            ack_due, decide_due = deadlines(Rules(), report.category, report.created_at)
            session.add(
                Case(
                    report_id=report.id or 0,
                    agency_id=found.id,
                    state=State.NEW,
                    ack_due=ack_due,
                    decide_due=decide_due,
                    created_at=report.created_at,
                    updated_at=report.created_at,
                )
            )
