"""Runs the real bot (python-telegram-bot over HTTP) against the fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from PIL import Image
from sqlalchemy import func, select

from bot.channels.telegram import CHANNEL, TelegramChannel
from bot.config import Settings
from bot.runtime import Runtime, open_runtime
from storage import agencies, officers
from storage.models import OutboxMessage
from storage.outbox import PENDING
from tests.casework import invite_code
from tests.fakes import FakeTelegramServer, SentMessage


@dataclass
class RunningBot:
    tg: FakeTelegramServer
    channel: TelegramChannel
    runtime: Runtime
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def delivered_all(self) -> None:
        """Wait until every queued message is sent and marked so: stopping earlier may send one
        again after the restart (delivery is at least once)."""

        async def none_pending() -> bool:
            async with self.runtime.sessions() as session:
                count = select(func.count()).select_from(OutboxMessage)
                return not await session.scalar(count.where(OutboxMessage.status == PENDING))

        await self.tg.wait_until(none_pending, message="the outbox delivered")

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.channel.stop()
        await self.runtime.close()


async def start_bot(tg: FakeTelegramServer, settings: Settings) -> RunningBot:
    """Start polling and delivery exactly as `feedbackbot run` does, on the fake server."""
    channel = TelegramChannel(tg.token, base_url=tg.base_url, per_chat_limit=(20, 1.0))
    runtime = await open_runtime(settings, {CHANNEL: channel})
    await channel.start()
    running = RunningBot(tg, channel, runtime)
    running.tasks = [
        asyncio.create_task(runtime.dispatcher.run()),
        asyncio.create_task(channel.poll(runtime.engine, poll_seconds=1)),
    ]
    return running


@contextlib.asynccontextmanager
async def bot_on(tg: FakeTelegramServer, settings: Settings) -> AsyncIterator[RunningBot]:
    running = await start_bot(tg, settings)
    try:
        yield running
    finally:
        await running.stop()


class Citizen:
    """A Telegram user: types, presses buttons by label, and waits for the bot's answer. With
    `user_id`, the chat is a group (a negative id) and `user_id` the member speaking in it."""

    def __init__(
        self,
        tg: FakeTelegramServer,
        chat_id: int,
        language: str = "vi",
        user_id: int | None = None,
    ) -> None:
        self.tg, self.chat_id, self.language, self.user_id = tg, chat_id, language, user_id

    def _count(self) -> int:
        return len(self.tg.messages(self.chat_id))

    async def _expect(self, before: int, expected: str) -> str:
        def texts() -> list[str]:
            return [m.text or m.caption or "" for m in self.tg.messages(self.chat_id)[before:]]

        await self.tg.wait_until(
            lambda: any(expected in text for text in texts()),
            timeout=10,
            message=f"waiting for {expected!r}",
        )
        return "\n".join(texts())

    async def type(self, text: str, expect: str) -> str:
        before = self._count()
        self.tg.send_text(self.chat_id, text, language_code=self.language, user_id=self.user_id)
        return await self._expect(before, expect)

    async def tap(self, label_part: str, expect: str) -> str:
        """Press the button whose label contains `label_part` on the latest question, waiting
        for that question to arrive if the bot is still sending."""

        def latest_question() -> SentMessage | None:
            with_buttons = [m for m in self.tg.messages(self.chat_id) if m.buttons]
            return with_buttons[-1] if with_buttons else None

        def offered() -> bool:
            question = latest_question()
            return question is not None and any(label_part in t for t, _ in question.buttons)

        await self.tg.wait_until(offered, timeout=10, message=f"a button {label_part!r}")
        question = latest_question()
        assert question is not None
        before = self._count()
        label = next(text for text, _ in question.buttons if label_part in text)
        self.tg.click(self.chat_id, label, message_id=question.message_id, user_id=self.user_id)
        return await self._expect(before, expect)


async def report_official(reporter: Citizen, *, photo: bool = False) -> str:
    """From the menu, an anonymous report about Phạm Văn Thắng of Đắk Hà's one-stop desk, with
    a photo if asked; returns the receipt code."""
    tg, chat = reporter.tg, reporter.chat_id
    await reporter.tap("Phản ánh về cán bộ", "hành vi cần phản ánh thuộc loại nào")
    await reporter.tap("Sách nhiễu", "Việc xảy ra tại cơ quan nào")
    await reporter.type("dak ha", "Xin chọn cơ quan")
    await reporter.tap("Bộ phận Một cửa huyện Đắk Hà", "Người có hành vi cần phản ánh là ai")
    await reporter.tap("Phạm Văn Thắng", "Việc xảy ra vào ngày nào")
    await reporter.tap("Hôm nay", "trình bày sự việc")
    await reporter.type(
        "Cán bộ yêu cầu nộp thêm giấy xác nhận không có trong danh mục.", "có đe dọa"
    )
    await reporter.tap("Không", "ảnh hoặc tài liệu làm bằng chứng")
    if photo:
        before = len(tg.messages(chat))
        tg.send_photo(chat)
        await tg.wait_until(
            lambda: any("Đã nhận tệp thứ 1" in (m.text or "") for m in tg.messages(chat)[before:])
        )
    await reporter.type("tiếp tục", "ẩn danh hay cung cấp")
    await reporter.tap("Ẩn danh", "không phải đơn tố cáo")
    await reporter.tap("Tôi đã hiểu", "kiểm tra lại nội dung phản ánh")
    received = await reporter.tap("Gửi phản ánh", "Mã tra cứu")
    receipt = re.search(r"Mã tra cứu: (\S+)", received)
    assert receipt is not None
    return receipt.group(1)


async def join(
    bot: RunningBot,
    tg: FakeTelegramServer,
    chat: int,
    agency: str,
    role: str,
    official: str | None = None,
) -> Citizen:
    """An officer who joined with an invite, as `feedbackbot officers invite` makes them."""
    code = await invite_code(bot.runtime, agency, role, official)
    person_chat = Citizen(tg, chat)
    await person_chat.type(f"/start join_{code}", "đã tham gia xử lý phản ánh")
    return person_chat


async def join_runtime(
    runtime: Runtime, channel: str, chat_id: str, agency: str, role: str
) -> None:
    """Make a chat an officer directly in the database (for channels without a helper)."""
    async with runtime.sessions() as session, session.begin():
        found = await agencies.agency_by_code(agency, session=session)
        assert found is not None
        officers.new_officer(
            channel,
            chat_id,
            chat_id,
            agency_id=found.id or 0,
            role=role,
            joined_at=runtime.engine._clock(),
            session=session,
        )


async def settled(runtime: Runtime) -> None:
    """Wait until the dispatcher has sent everything the turns so far queued: a test that then
    finds no extra message knows none is still on its way, without sleeping."""
    async with asyncio.timeout(10):
        await runtime.dispatcher.idle()


def same_picture(stored: bytes | None, sent: bytes | None) -> bool:
    """The kept evidence shows the same picture as the file sent (it is re-encoded without its
    metadata, so the bytes differ)."""
    if stored is None or sent is None:
        return False
    with Image.open(io.BytesIO(stored)) as kept, Image.open(io.BytesIO(sent)) as original:
        return kept.size == original.size
