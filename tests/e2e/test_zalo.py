"""Citizens on Zalo, by polling and by webhook, typing numbers; long replies in parts; charts
sent as images fetched from the bot's own web server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.channels.zalo import CHANNEL, TEXT_LIMIT, ZaloChannel
from bot.config import Settings
from bot.runtime import Runtime, open_runtime
from bot.web import (
    BODY_LIMIT,
    ZALO_SECRET_HEADER,
    WebSettings,
    create_app,
    file_publisher,
)
from handlers.messages import OutgoingFile, Reply
from storage import files
from storage.models import Evidence, ProcessedUpdate, Rating, Report
from tests.e2e.telegram_bot import join_runtime, same_picture, settled
from tests.fakes import FakeZaloServer
from tests.fakes.serving import serve
from tests.fakes.zalo_api import FILES, TINY_PNG

SECRET = "zalo-webhook-secret-0042"
CHAT = "6ede9afa66b88fe6d6a9"
Deliver = Callable[[dict[str, Any]], Awaitable[None]]


class ZaloCitizen:
    """Types into Zalo; each message reaches the bot by polling or by webhook."""

    def __init__(self, zalo: FakeZaloServer, deliver: Deliver, chat: str = CHAT) -> None:
        self.zalo, self.deliver, self.chat = zalo, deliver, chat

    async def type(self, text: str, expect: str) -> str:
        before = len(self.zalo.messages(self.chat))
        await self.deliver(self.zalo.send_text(self.chat, text))
        return await self.wait(before, expect)

    async def choose(self, label_part: str, expect: str) -> str:
        """Type the number of the option whose label contains `label_part`."""
        last = "\n".join(self.zalo.texts(self.chat)[-3:])
        numbers = re.findall(r"^\s+(\d+)\. (.+)$", last, re.MULTILINE)
        number = next(n for n, label in reversed(numbers) if label_part in label)
        return await self.type(number, expect)

    async def wait(self, before: int, expect: str) -> str:
        def texts() -> list[str]:
            return [m.text or m.caption or "" for m in self.zalo.messages(self.chat)[before:]]

        await self.zalo.wait_until(
            lambda: any(expect in t for t in texts()), message=f"waiting for {expect!r}"
        )
        return "\n".join(texts())


@contextlib.asynccontextmanager
async def zalo_bot(
    settings: Settings, zalo: FakeZaloServer, *, webhook: bool
) -> AsyncIterator[tuple[Runtime, ZaloChannel, str | None]]:
    channel = ZaloChannel(zalo.token, base_url=zalo.base_url, per_chat_limit=None)
    runtime = await open_runtime(settings, {CHANNEL: channel})
    tasks = [asyncio.create_task(runtime.dispatcher.run())]
    if not webhook:
        tasks.append(asyncio.create_task(channel.poll(runtime.engine, poll_seconds=1)))
    try:
        app = create_app(
            runtime,
            web=WebSettings.from_settings(settings),
            zalo=channel,
            zalo_secret=SECRET,
        )
        async with serve(app) as url:
            channel.publish = file_publisher(runtime, url, 1)
            yield runtime, channel, url
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await channel.close()
        await runtime.close()


async def count(runtime: Runtime, model: Any) -> int:
    async with runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def rate_and_report(
    citizen: ZaloCitizen, zalo: FakeZaloServer, runtime: Runtime, deliver: Deliver
) -> None:
    out = await citizen.type("xin chào", "Thông báo về dữ liệu cá nhân")
    assert "1. Tôi đồng ý" in out, "options are numbered lines"
    await citizen.type("1", "Mời Ông/Bà chọn chức năng")
    await citizen.choose("Đánh giá dịch vụ", "làm thủ tục tại cơ quan nào")
    await citizen.type("dak ha", "Xin chọn cơ quan")
    await citizen.choose("Bộ phận Một cửa huyện Đắk Hà", "thủ tục hoặc sử dụng dịch vụ")
    await citizen.choose("Chứng thực", "Yếu tố 1/5")
    out = await citizen.type("6", "Không có phương án số 6")
    assert "gõ số thứ tự" in out and "bấm" not in out, "Zalo has no buttons to press"
    await citizen.type("hai long", "Yếu tố 2/5")
    await citizen.type("0", "Yếu tố 1/5")
    for mark, expect in (
        ("4", "Yếu tố 2/5"),
        ("5", "Yếu tố 3/5"),
        ("4", "Yếu tố 4/5"),
        ("5", "Yếu tố 5/5"),
    ):
        await citizen.type(mark, expect)
    await citizen.choose("Bỏ qua", "phiếu hẹn")
    await citizen.choose("Đúng hẹn", "giấy tờ")
    await citizen.choose("Không", "bao nhiêu lần")
    await citizen.choose("1 lần", "hình thức")
    await citizen.choose("trực tuyến", "đưa tiền")
    await citizen.choose("Không", "góp ý gì thêm")
    await citizen.type("Phục vụ tốt.", "kiểm tra lại")
    await citizen.choose("Gửi đánh giá", "Đánh giá của Ông/Bà đã được ghi nhận")
    assert await count(runtime, Rating) == 1

    await citizen.type("/report", "hành vi cần phản ánh thuộc loại nào")
    await citizen.choose("Sách nhiễu", "Việc xảy ra tại cơ quan nào")
    await citizen.type("dak ha", "Xin chọn cơ quan")
    await citizen.choose("Bộ phận Một cửa huyện Đắk Hà", "là ai")
    await citizen.choose("Phạm Văn Thắng", "ngày nào")
    await citizen.choose("Hôm nay", "trình bày sự việc")
    await citizen.type("Cán bộ hẹn đi hẹn lại nhiều lần mà không rõ lý do.", "đe dọa")
    await citizen.choose("Không", "bằng chứng")
    before = len(zalo.messages(CHAT))
    await deliver(zalo.send_image(CHAT, zalo.serve_file(TINY_PNG)))
    await citizen.wait(before, "Đã nhận tệp thứ 1")
    await citizen.choose("Tiếp tục", "ẩn danh")
    await citizen.choose("Ẩn danh", "tố cáo")
    await citizen.choose("Tôi đã hiểu", "kiểm tra lại nội dung")
    out = await citizen.choose("Gửi phản ánh", "Mã tra cứu")
    assert re.search(r"Mã tra cứu: \w{4}-\w{4}-\w{4}", out)
    async with runtime.sessions() as session:
        [report] = (await session.scalars(select(Report))).all()
        [evidence] = (await session.scalars(select(Evidence))).all()
    assert report.anonymous and report.channel == "zalo"
    assert same_picture(evidence.content, TINY_PNG)


async def test_a_citizen_rates_and_reports_on_zalo_by_polling(settings: Settings) -> None:
    async with FakeZaloServer() as zalo, zalo_bot(settings, zalo, webhook=False) as (rt, _, _):

        async def queued(_: dict[str, Any]) -> None:
            return None  # the update waits in getUpdates

        await rate_and_report(ZaloCitizen(zalo, queued), zalo, rt, queued)
        assert all(len(m.text or "") <= TEXT_LIMIT for m in zalo.all_messages())


async def test_polling_answers_another_chat_while_one_photo_downloads_in_order(
    settings: Settings,
) -> None:
    """Turns of different chats run at once; a chat's photo is answered before its next text
    even though the photo waits for its download. Times are compared with each other only."""
    notice, other = "Thông báo về dữ liệu cá nhân", "0a0b0c0d0e0f01020304"
    async with FakeZaloServer() as zalo, zalo_bot(settings, zalo, webhook=False):

        async def queued(_: dict[str, Any]) -> None:
            return None

        citizen = ZaloCitizen(zalo, queued)
        await citizen.type("xin chào", notice)
        await citizen.type("1", "Mời Ông/Bà chọn chức năng")
        zalo.set_latency(3.0, FILES)
        zalo.send_image(CHAT, zalo.serve_file(TINY_PNG))
        zalo.send_text(CHAT, "/help")
        zalo.send_text(other, "/start")
        await zalo.wait_until(lambda: any(notice in t for t in zalo.texts(other)))
        [(download, _)] = zalo.file_requests
        [answer] = [c.at for c in zalo.calls_to("sendMessage") if c.params["chat_id"] == other]
        assert answer < download + 3.0, "the other chat was answered during the download"
        await zalo.wait_until(lambda: any("Các lệnh:" in t for t in zalo.texts(CHAT)), timeout=15)
        photo, help_ = zalo.texts(CHAT)[-2:]
        assert "chỉ nhận tin nhắn bằng chữ" in photo and "Các lệnh:" in help_


async def test_a_citizen_rates_and_reports_on_zalo_by_webhook(settings: Settings) -> None:
    async with FakeZaloServer() as zalo, zalo_bot(settings, zalo, webhook=True) as (rt, _, url):

        async def pushed(update: dict[str, Any]) -> None:
            assert await zalo.deliver(f"{url}/zalo", update, secret=SECRET) == 200

        await rate_and_report(ZaloCitizen(zalo, pushed), zalo, rt, pushed)


async def test_webhook_secret_probe_and_redelivery(settings: Settings) -> None:
    async with FakeZaloServer() as zalo, zalo_bot(settings, zalo, webhook=True) as (rt, _, url):
        update = zalo.send_text(CHAT, "/start")
        for secret in (None, "", "wrong-secret-wrong"):
            assert await zalo.deliver(f"{url}/zalo", update, secret=secret) == 401
        assert await count(rt, ProcessedUpdate) == 0
        assert await zalo.probe(f"{url}/zalo", secret=SECRET) == 200
        for wrapped in (True, False, True):
            assert await zalo.deliver(f"{url}/zalo", update, secret=SECRET, wrapped=wrapped) == 200
        await settled(rt)
        assert await count(rt, ProcessedUpdate) == 1
        assert len([t for t in zalo.texts(CHAT) if "dữ liệu cá nhân" in t]) == 1


async def test_unknown_events_and_unsupported_messages_get_a_polite_line(
    settings: Settings,
) -> None:
    async with FakeZaloServer() as zalo, zalo_bot(settings, zalo, webhook=True) as (_, _, url):
        for update in (
            zalo.send_unsupported(CHAT),
            zalo.send_event(CHAT, "message.new.kind"),
            zalo.send_sticker(CHAT),
        ):
            assert await zalo.deliver(f"{url}/zalo", update, secret=SECRET) == 200
        await zalo.wait_for_messages(CHAT, 3)
        assert all("dữ liệu cá nhân" in t for t in zalo.texts(CHAT))


@pytest.mark.parametrize("body", [b"null", b"[]", b'{"ok": true, "result": 5}', b"{" * 50_000])
async def test_a_malformed_or_oversized_body_is_refused_with_one_log_line(
    settings: Settings, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeZaloServer() as zalo, zalo_bot(settings, zalo, webhook=True) as (rt, _, url):
        for sent, status in ((body, 400), (b"[" * (BODY_LIMIT + 1), 413)):
            async with httpx.AsyncClient(timeout=10.0) as client:
                answer = await client.post(
                    f"{url}/zalo", content=sent, headers={ZALO_SECRET_HEADER: SECRET}
                )
            assert answer.status_code == status
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
        assert len([r for r in caplog.records if r.name == "bot.web.webhooks"]) == 2
        assert await count(rt, ProcessedUpdate) == 0


async def test_a_long_reply_arrives_in_order_in_parts(settings: Settings) -> None:
    async with FakeZaloServer() as zalo, zalo_bot(settings, zalo, webhook=True) as (_, ch, _):
        zalo.add_chat(CHAT)
        lines = [f"Dòng {n:03d}: " + "nội dung phản ánh " * 6 for n in range(120)]
        for part in ch.parts(Reply("\n".join(lines))):
            await ch.send_part(CHAT, part)
        parts = zalo.texts(CHAT)
        assert len(parts) > 1 and all(len(p) <= TEXT_LIMIT for p in parts)
        received = "\n".join(parts).split("\n")
        assert [line.split(":")[0] for line in received] == [f"Dòng {n:03d}" for n in range(120)]


async def test_quota_errors_are_retried(settings: Settings) -> None:
    async with FakeZaloServer() as zalo, zalo_bot(settings, zalo, webhook=True) as (_, _, url):
        zalo.fail_next("sendMessage", 429)
        assert (
            await zalo.deliver(f"{url}/zalo", zalo.send_text(CHAT, "/start"), secret=SECRET) == 200
        )
        await zalo.wait_until(
            lambda: any("dữ liệu cá nhân" in t for t in zalo.texts(CHAT)), timeout=8
        )


async def test_a_chart_reaches_zalo_as_an_image_from_our_server(settings: Settings) -> None:
    async with FakeZaloServer() as zalo, zalo_bot(settings, zalo, webhook=True) as (rt, _, url):
        await join_runtime(rt, "zalo", CHAT, "62-SNV", "admin")
        assert (
            await zalo.deliver(f"{url}/zalo", zalo.send_text(CHAT, "/summary"), secret=SECRET)
            == 200
        )
        await zalo.wait_until(
            lambda: any(m.kind == "photo" for m in zalo.messages(CHAT)), timeout=15
        )
        photo = next(m for m in zalo.messages(CHAT) if m.kind == "photo")
        assert photo.photo_url is not None and photo.photo_url.startswith(f"{url}/files/")
        assert photo.photo_bytes is not None and photo.photo_bytes.startswith(b"\x89PNG")


@pytest.mark.parametrize("status", [200, 408])
async def test_polling_treats_408_as_no_update_whatever_the_status(
    settings: Settings, status: int
) -> None:
    async with FakeZaloServer() as zalo:
        zalo.timeout_http_status = status
        async with zalo_bot(settings, zalo, webhook=False):
            await asyncio.sleep(1.2)
            zalo.send_text(CHAT, "/start")
            await zalo.wait_for_messages(CHAT, 1, timeout=6)


async def test_the_long_poll_outlasts_a_short_default_read_timeout(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """getUpdates waits up to the poll timeout, so its read timeout is set above it."""
    caplog.set_level(logging.WARNING, logger="bot.channels.zalo")
    async with FakeZaloServer() as zalo:
        client = httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.5))
        channel = ZaloChannel(
            zalo.token, base_url=zalo.base_url, per_chat_limit=None, client=client
        )
        runtime = await open_runtime(settings, {CHANNEL: channel})
        tasks = [
            asyncio.create_task(runtime.dispatcher.run()),
            asyncio.create_task(channel.poll(runtime.engine, poll_seconds=2)),
        ]
        try:
            await asyncio.sleep(1.5)  # an empty long poll is still waiting, not timed out
            zalo.send_text(CHAT, "/start")
            await zalo.wait_for_messages(CHAT, 1, timeout=6)
            assert "getUpdates failed" not in caplog.text
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await channel.close()
            await runtime.close()


async def test_served_files_expire(settings: Settings) -> None:
    async with FakeZaloServer() as zalo, zalo_bot(settings, zalo, webhook=True) as (rt, _, url):
        now = datetime.now(UTC)
        async with rt.sessions() as session, session.begin():
            token = await files.publish(
                "c.png",
                "image/png",
                TINY_PNG,
                now=now - timedelta(hours=2),
                ttl=timedelta(hours=1),
                session=session,
            )
            fresh = await files.publish(
                "d.png", "image/png", TINY_PNG, now=now, ttl=timedelta(hours=1), session=session
            )
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{url}/files/{token}")).status_code == 404
            assert (await client.get(f"{url}/files/{fresh}")).content == TINY_PNG
            assert (await client.get(f"{url}/files/not-a-token")).status_code == 404


async def test_without_a_public_address_a_file_is_named_in_text() -> None:
    """Zalo fetches images by URL; without PUBLIC_BASE_URL, the text names the file instead."""
    async with FakeZaloServer() as zalo:
        zalo.send_text(CHAT, "/start")  # the chat exists
        channel = ZaloChannel(zalo.token, base_url=zalo.base_url, per_chat_limit=None)
        chart = OutgoingFile("bieu-do-thang-11.png", "image/png", TINY_PNG)
        try:
            [part] = channel.parts(Reply("Biểu đồ mức độ hài lòng tháng 11", file=chart))
            await channel.send_part(CHAT, part)
        finally:
            await channel.close()
        assert zalo.calls_to("sendPhoto") == []
        [text] = zalo.texts(CHAT)
        assert "Biểu đồ mức độ hài lòng tháng 11" in text and "[bieu-do-thang-11.png]" in text
