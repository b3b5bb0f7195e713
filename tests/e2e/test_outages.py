"""Outages pause delivery instead of losing replies; a long reply's failed part is sent again
alone; permanent errors are given up at once. The real python-telegram-bot client against the
fake Bot API (and httpx against the fake Zalo API); the dispatcher's clock is moved by hand and
each delivery pass is run by the test, so nothing sleeps."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.channels import zalo
from bot.channels.telegram import CHANNEL, TelegramChannel
from bot.config import Settings
from bot.runtime import Runtime, open_runtime
from handlers.messages import Choice, Reply, encode_reply
from storage.identity import keys_of
from storage.models import OutboxMessage, ProcessedUpdate
from storage.outbox import FAILED, PENDING, SENT, UNREACHABLE, Outgoing, enqueue
from tests.conftest import Clock
from tests.e2e.telegram_bot import Citizen
from tests.e2e.test_telegram_rating import consent_and_open_rating
from tests.fakes import FakeTelegramServer, FakeZaloServer

CHATS = (6001, 6002, 6003)
DOWN = 1_000_000
"""Enough failures to outlast any test: the outage ends with `clear_faults`."""


@pytest.fixture
async def polled(
    tg: FakeTelegramServer, settings: Settings, clock: Clock
) -> AsyncIterator[Runtime]:
    """The bot polling the fake as `feedbackbot run` does; delivery is driven by the test."""
    channel = TelegramChannel(tg.token, base_url=tg.base_url, per_chat_limit=(20, 1.0))
    runtime = await open_runtime(settings, {CHANNEL: channel}, clock=clock)
    await channel.start()
    polling = asyncio.create_task(channel.poll(runtime.engine, poll_seconds=1))
    try:
        yield runtime
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await channel.stop()
        await runtime.close()


async def rows(runtime: Runtime, chat: int | None = None) -> list[OutboxMessage]:
    async with runtime.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if chat is not None:
            ref = keys_of(session).ref(CHANNEL, str(chat))
            query = query.where(OutboxMessage.chat_ref == ref)
        return list((await session.scalars(query)).all())


async def processed(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0


async def handled(runtime: Runtime, tg: FakeTelegramServer, updates: int) -> None:
    async def done() -> bool:
        return await processed(runtime) == updates

    await tg.wait_until(done, message=f"{updates} updates handled")


async def pass_time(runtime: Runtime, clock: Clock, *, minutes: float, step: float) -> None:
    """Move the clock `minutes` forward, a delivery pass every `step` minutes."""
    for _ in range(round(minutes / step)):
        clock.advance(minutes=step)
        await runtime.dispatcher.deliver_due()


async def deliver_everything(runtime: Runtime, clock: Clock) -> None:
    """Passes a minute apart until nothing waits (at most ten minutes)."""
    for _ in range(10):
        clock.advance(minutes=1)
        await runtime.dispatcher.deliver_due()
        if not any(row.status == PENDING for row in await rows(runtime)):
            return
    raise AssertionError("messages still pending ten minutes after the outage")


async def test_a_five_minute_outage_delivers_every_reply_afterwards_in_order(
    polled: Runtime, tg: FakeTelegramServer, clock: Clock
) -> None:
    tg.fail_next("sendMessage", 502, description="Bad Gateway", times=DOWN)
    for chat in CHATS:
        tg.send_text(chat, "/start")
        tg.send_text(chat, "/help")
    await handled(polled, tg, 2 * len(CHATS))
    written = await rows(polled)
    assert len(written) >= 2 * len(CHATS)

    await pass_time(polled, clock, minutes=5, step=1 / 12)
    tries = len(tg.calls_to("sendMessage"))
    assert all(row.status == PENDING for row in await rows(polled))
    assert not tg.all_messages()
    assert polled.dispatcher.channels_down() == [CHANNEL]
    # Probes, not every message's own retries: 60 passes, one probe per pause at most.
    assert tries <= len(CHATS) + 12

    tg.clear_faults()
    await deliver_everything(polled, clock)
    assert polled.dispatcher.channels_down() == []
    assert all(row.status == SENT for row in await rows(polled))
    for chat in CHATS:
        expected = [row.payload["text"] for row in await rows(polled, chat)]
        assert [message.text for message in tg.messages(chat)] == expected


async def test_a_reply_given_up_after_the_horizon_is_followed_by_the_question_again(
    polled: Runtime, tg: FakeTelegramServer, clock: Clock
) -> None:
    citizen = Citizen(tg, CHATS[0])
    delivery = asyncio.create_task(polled.dispatcher.run())
    await consent_and_open_rating(citizen)
    delivery.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await delivery
    updates = await processed(polled)

    tg.fail_next("sendMessage", 502, description="Bad Gateway", times=DOWN)
    tg.click(CHATS[0], "4 – Hài lòng", message_id=tg.last_message(CHATS[0]).message_id)
    await handled(polled, tg, updates + 1)
    lost = (await rows(polled))[-1]
    assert "Yếu tố 2/5" in lost.payload["text"]

    await pass_time(polled, clock, minutes=25 * 60, step=60)
    tg.clear_faults()
    await deliver_everything(polled, clock)

    statuses = {row.id: row.status for row in await rows(polled)}
    assert statuses[lost.id] == FAILED
    again = tg.last_message(CHATS[0])
    assert "gặp sự cố kéo dài" in again.text and "Yếu tố 2/5" in again.text
    assert any("5 – Rất hài lòng" in label for label, _ in again.buttons)
    tg.click(CHATS[0], "5 – Rất hài lòng", message_id=again.message_id)
    await handled(polled, tg, updates + 2)
    await deliver_everything(polled, clock)
    assert "Yếu tố 3/5" in tg.last_message(CHATS[0]).text


async def test_a_failed_part_of_a_long_reply_is_resent_alone(
    polled: Runtime, tg: FakeTelegramServer, clock: Clock
) -> None:
    paragraphs = [f"Đoạn {n}: " + " ".join(["nội dung"] * 400) for n in (1, 2, 3)]
    reply = Reply("\n\n".join(paragraphs), (Choice("ok", "Đã đọc"),), token="t1")
    async with polled.sessions() as session, session.begin():
        await enqueue(
            [Outgoing(CHANNEL, str(CHATS[0]), encode_reply(reply))], clock(), session=session
        )
    tg.fail_next("sendMessage", 502, description="Bad Gateway", after=1)

    await polled.dispatcher.deliver_due()
    await deliver_everything(polled, clock)

    received = tg.messages(CHATS[0])
    assert [message.text for message in received] == paragraphs
    assert [bool(message.buttons) for message in received] == [False, False, True]
    tried = [call.params["text"] for call in tg.calls_to("sendMessage")]
    assert tried == [paragraphs[0], paragraphs[1], paragraphs[1], paragraphs[2]]


async def test_permanent_errors_give_up_at_once_and_pause_no_one(
    polled: Runtime, tg: FakeTelegramServer, clock: Clock
) -> None:
    blocked, gone, fine = CHATS
    tg.block_user(blocked)
    tg.fail_next("sendMessage", 400, description="Bad Request: chat not found", chat_id=gone)
    async with polled.sessions() as session, session.begin():
        await enqueue(
            [Outgoing(CHANNEL, str(chat), encode_reply(Reply("Xin chào"))) for chat in CHATS],
            clock(),
            session=session,
        )

    await polled.dispatcher.deliver_due()

    assert [row.status for row in await rows(polled)] == [UNREACHABLE, UNREACHABLE, SENT]
    assert [message.text for message in tg.messages(fine)] == ["Xin chào"]
    assert len(tg.calls_to("sendMessage")) == len(CHATS)


async def test_a_zalo_outage_loses_nothing_and_keeps_each_chats_order(
    settings: Settings, clock: Clock
) -> None:
    chats = ("zalo-chat-1", "zalo-chat-2")
    long = "\n".join(f"Dòng {n:03d}: " + " ".join(["nội dung"] * 20) for n in range(20))
    async with FakeZaloServer() as api:
        channel = zalo.ZaloChannel(api.token, base_url=api.base_url, per_chat_limit=None)
        runtime = await open_runtime(settings, {zalo.CHANNEL: channel}, clock=clock)
        try:
            for chat in chats:
                api.add_chat(chat)
            async with runtime.sessions() as session, session.begin():
                await enqueue(
                    [
                        Outgoing(zalo.CHANNEL, chat, encode_reply(Reply(text)))
                        for chat in chats
                        for text in (long, f"Xin chào {chat}")
                    ],
                    clock(),
                    session=session,
                )
            api.fail_next("sendMessage", 503, http_status=503, times=DOWN)

            await pass_time(runtime, clock, minutes=5, step=1 / 12)
            assert all(row.status == PENDING for row in await rows(runtime))
            api.clear_faults()
            await deliver_everything(runtime, clock)
        finally:
            await channel.close()
            await runtime.close()
        for chat in chats:
            received = api.texts(chat)
            assert len(received) == 3 and received[-1] == f"Xin chào {chat}"
            assert "\n".join(received[:2]).split("\n") == long.split("\n")


async def test_a_failed_part_on_zalo_is_resent_alone(settings: Settings, clock: Clock) -> None:
    chat = "zalo-chat-3"
    paragraphs = [f"Đoạn {n}: " + " ".join(["nội dung"] * 190) for n in (1, 2, 3)]
    async with FakeZaloServer() as api:
        channel = zalo.ZaloChannel(api.token, base_url=api.base_url, per_chat_limit=None)
        runtime = await open_runtime(settings, {zalo.CHANNEL: channel}, clock=clock)
        try:
            api.add_chat(chat)
            reply = encode_reply(Reply("\n\n".join(paragraphs)))
            async with runtime.sessions() as session, session.begin():
                await enqueue([Outgoing(zalo.CHANNEL, chat, reply)], clock(), session=session)
            api.fail_next("sendMessage", 503, http_status=503, after=1)

            await runtime.dispatcher.deliver_due()
            await deliver_everything(runtime, clock)
        finally:
            await channel.close()
            await runtime.close()
        assert api.texts(chat) == paragraphs
        assert len(api.calls_to("sendMessage")) == len(paragraphs) + 1
