"""Telegram through the production web server: webhooks, secrets, redelivery, crashes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.types import Receive, Scope, Send

from bot.channels.telegram import CHANNEL, TelegramChannel
from bot.config import Settings
from bot.runtime import Runtime, open_runtime
from bot.web import BODY_LIMIT, TELEGRAM_SECRET_HEADER, WebSettings, create_app
from storage.models import Conversation, Evidence, ProcessedUpdate, Rating, Report
from tests.e2e.telegram_bot import settled
from tests.fakes import FakeTelegramServer
from tests.fakes.serving import serve

SECRET = "telegram-webhook-secret-42"
CHAT = 6101


class Site:
    """The bot behind its web server, and a citizen whose messages arrive as webhook calls."""

    def __init__(self, tg: FakeTelegramServer, runtime: Runtime, url: str) -> None:
        self.tg, self.runtime, self.url = tg, runtime, url

    async def deliver(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        return await self.tg.post_update(f"{self.url}/telegram", update, secret_token=secret)

    async def say(self, text: str, expect: str) -> None:
        before = len(self.tg.messages(CHAT))
        assert await self.deliver(self.tg.send_text(CHAT, text)) == 200
        await self.wait(before, expect)

    async def tap(self, label_part: str, expect: str) -> dict[str, Any]:
        message = next(m for m in reversed(self.tg.messages(CHAT)) if m.buttons)
        data = next(d for label, d in message.buttons if label_part in label)
        assert data is not None
        before = len(self.tg.messages(CHAT))
        update = self.tg.press(CHAT, message.message_id, data)
        assert await self.deliver(update) == 200
        await self.wait(before, expect)
        return update

    async def wait(self, before: int, expect: str) -> None:
        await self.tg.wait_until(
            lambda: any(expect in (m.text or "") for m in self.tg.messages(CHAT)[before:]),
            message=f"waiting for {expect!r}",
        )

    async def count(self, model: Any) -> int:
        async with self.runtime.sessions() as session:
            return await session.scalar(select(func.count()).select_from(model)) or 0


@contextlib.asynccontextmanager
async def site(
    tg: FakeTelegramServer, settings: Settings, wrap: Any = None
) -> AsyncIterator[Site]:
    channel = TelegramChannel(tg.token, base_url=tg.base_url, per_chat_limit=None)
    await channel.start()
    runtime = await open_runtime(settings, {CHANNEL: channel})
    app = create_app(
        runtime,
        web=WebSettings.from_settings(settings),
        telegram=channel,
        telegram_secret=SECRET,
    )
    delivery = asyncio.create_task(runtime.dispatcher.run())
    try:
        async with serve(wrap(app) if wrap else app) as url:
            yield Site(tg, runtime, url)
    finally:
        delivery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await delivery
        await channel.stop()
        await runtime.close()


@pytest.fixture
async def web(tg: FakeTelegramServer, settings: Settings) -> AsyncIterator[Site]:
    async with site(tg, settings) as running:
        yield running


async def rate_to_summary(web: Site) -> None:
    await web.say("/start", "Thông báo về dữ liệu cá nhân")
    await web.tap("Tôi đồng ý", "Mời Ông/Bà chọn chức năng")
    await web.say("/start r_615-MC_CHUNG-THUC", "Yếu tố 1/5")
    for mark, nxt in (
        ("4 –", "Yếu tố 2/5"),
        ("4 –", "Yếu tố 3/5"),
        ("5 –", "Yếu tố 4/5"),
        ("4 –", "Yếu tố 5/5"),
        ("Bỏ qua", "phiếu hẹn"),
        ("Đúng hẹn", "giấy tờ"),
        ("Không", "bao nhiêu lần"),
        ("1 lần", "hình thức"),
        ("Trực tiếp", "đưa tiền"),
        ("Không", "góp ý gì thêm"),
        ("Không có góp ý", "kiểm tra lại"),
    ):
        await web.tap(mark, nxt)


async def test_a_citizen_rates_through_the_webhook_and_a_triple_delivery_counts_once(
    web: Site,
) -> None:
    await rate_to_summary(web)
    submit = await web.tap("Gửi đánh giá", "Đánh giá của Ông/Bà đã được ghi nhận")
    assert await web.deliver(submit) == 200
    assert await web.deliver(submit) == 200
    await settled(web.runtime)
    assert await web.count(Rating) == 1
    thanks = [m for m in web.tg.messages(CHAT) if "Đánh giá của Ông/Bà" in (m.text or "")]
    assert len(thanks) == 1


async def test_once_the_dispatcher_is_idle_the_replies_have_been_sent(web: Site) -> None:
    """What the checks that nothing more came rely on, instead of a sleep."""
    assert await web.deliver(web.tg.send_text(CHAT, "/start")) == 200
    await settled(web.runtime)
    assert any("dữ liệu cá nhân" in (m.text or "") for m in web.tg.messages(CHAT))


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-wrong-secret"])
async def test_a_wrong_or_missing_secret_is_refused_and_stores_nothing(
    web: Site, secret: str | None
) -> None:
    update = web.tg.send_text(CHAT, "/start")
    assert await web.deliver(update, secret=secret) == 401
    assert await web.count(ProcessedUpdate) == 0
    assert await web.count(Conversation) == 0
    assert web.tg.messages(CHAT) == []


MALFORMED = [
    b"",
    b"null",
    b"[]",
    b"{}",
    b"\xff\xfe{",
    b'{"update_id": "7"}',
    b'{"update_id": 7, "message": 5}',
    b'{"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": '
    b'"private"}, "from": {"id": 1, "is_bot": false, "first_name": "A"}, "text": {"a": 1}}}',
    b"[" * 100_000 + b"]" * 100_000,
]


async def post_raw(url: str, body: Any, header: str, secret: str) -> int:
    async with httpx.AsyncClient(timeout=10.0) as client:
        answer = await client.post(url, content=body, headers={header: secret})
    return answer.status_code


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the server logged: only its one line per refused body, and no traceback."""
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    return [r for r in caplog.records if r.name == "bot.web.webhooks"]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
async def test_a_malformed_body_is_answered_400_with_one_log_line(
    web: Site, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    status = await post_raw(f"{web.url}/telegram", body, TELEGRAM_SECRET_HEADER, SECRET)
    assert status == 400
    assert len(refusal_lines(caplog)) == 1
    assert await web.count(ProcessedUpdate) == 0
    await web.say("/start", "Thông báo về dữ liệu cá nhân")


async def test_an_oversized_body_is_refused_without_reading_it_all(
    web: Site, caplog: pytest.LogCaptureFixture
) -> None:
    padded = b'{"update_id": 9, "pad": "' + b"x" * (BODY_LIMIT + 1) + b'"}'

    async def streamed() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * BODY_LIMIT

    for body in (padded, streamed()):
        assert await post_raw(f"{web.url}/telegram", body, TELEGRAM_SECRET_HEADER, SECRET) == 413
    assert len(refusal_lines(caplog)) == 2
    assert await web.count(ProcessedUpdate) == 0


async def test_health_reports_the_database_and_the_backlog(web: Site) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{web.url}/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"database": "ok", "outbox_pending": 0, "channels_down": []}


def dies_after_the_turn(app: Any) -> Any:
    """The process dies after the turn committed, before the 200 leaves: the platform sees a
    broken connection and will deliver again."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def swallow(_: Any) -> None:
            return None

        await app(scope, receive, swallow)
        raise ConnectionResetError("killed between the commit and the answer")

    return wrapped


def dies_before_the_turn(app: Any) -> Any:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        raise ConnectionResetError("killed before the update was read")

    return wrapped


@pytest.mark.parametrize("crash", [dies_after_the_turn, dies_before_the_turn])
async def test_a_crash_around_the_commit_neither_loses_nor_doubles(
    tg: FakeTelegramServer, settings: Settings, crash: Any
) -> None:
    async with site(tg, settings, wrap=crash) as broken:
        update = broken.tg.send_text(CHAT, "/start")
        assert await broken.deliver(update) == 500
        processed_before_restart = await broken.count(ProcessedUpdate)
    async with site(tg, settings) as restarted:
        restarted.tg.redeliver(update)
        assert await restarted.deliver(update) == 200
        await settled(restarted.runtime)
        assert await restarted.count(ProcessedUpdate) == 1
        notices = [m for m in restarted.tg.messages(CHAT) if "dữ liệu cá nhân" in (m.text or "")]
        assert len(notices) == 1
    assert processed_before_restart == (1 if crash is dies_after_the_turn else 0)


async def test_a_citizen_reports_anonymously_through_the_webhook(web: Site) -> None:
    await web.say("/start", "Thông báo về dữ liệu cá nhân")
    await web.tap("Tôi đồng ý", "Mời Ông/Bà chọn chức năng")
    await web.tap("Phản ánh về cán bộ", "thuộc loại nào")
    await web.tap("Gây khó khăn", "Việc xảy ra tại cơ quan nào")
    await web.say("dak ha", "Xin chọn cơ quan")
    await web.tap("Bộ phận Một cửa huyện Đắk Hà", "là ai")
    await web.tap("Không biết người đó là ai", "ngày nào")
    await web.say("15/11/2026", "trình bày sự việc")
    await web.say("Cán bộ yêu cầu quay lại nhiều lần mà không nêu lý do.", "đe dọa")
    await web.tap("Không", "bằng chứng")
    before = len(web.tg.messages(CHAT))
    assert await web.deliver(web.tg.send_photo(CHAT)) == 200
    await web.wait(before, "Đã nhận tệp thứ 1")
    await web.tap("Tiếp tục", "ẩn danh")
    await web.tap("Ẩn danh", "tố cáo")
    await web.tap("Tôi đã hiểu", "kiểm tra lại nội dung")
    await web.tap("Gửi phản ánh", "Mã tra cứu")
    async with web.runtime.sessions() as session:
        [report] = (await session.scalars(select(Report))).all()
        [evidence] = (await session.scalars(select(Evidence))).all()
    assert report.anonymous and report.official_id is None and report.category == "obstruction"
    assert evidence.content is not None and evidence.content.startswith(b"\xff\xd8")


async def test_webhooks_of_two_chats_run_at_once_and_one_chat_keeps_its_order(web: Site) -> None:
    """A chat's photo waits for its download; the other chat's call is answered meanwhile, and
    the chat's next message waits behind the photo. Times are compared with each other only."""
    tg = web.tg
    await web.say("/start", "Thông báo về dữ liệu cá nhân")
    await web.tap("Tôi đồng ý", "Mời Ông/Bà chọn chức năng")
    tg.set_latency(3.0, "getFile")
    photo = asyncio.create_task(web.deliver(tg.send_photo(CHAT)))
    await tg.wait_until(lambda: tg.calls_to("getFile"), message="the download begun")
    helped = asyncio.create_task(web.deliver(tg.send_text(CHAT, "/help")))
    assert await web.deliver(tg.send_text(CHAT + 1, "/start")) == 200
    assert not photo.done(), "the other chat's call was answered during the download"
    assert await asyncio.gather(photo, helped) == [200, 200]
    await tg.wait_until(lambda: "Các lệnh:" in (tg.last_message(CHAT).text or ""))
    photo_reply, help_reply = [m.text or "" for m in tg.messages(CHAT)][-2:]
    assert "chỉ nhận tin nhắn bằng chữ" in photo_reply and "Các lệnh:" in help_reply
