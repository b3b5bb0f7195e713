"""Outbox claims: dispatchers of several worker processes share one outbox.

Each message is sent by one dispatcher, each chat's messages in the order written; a crashed
worker's chats are taken over once its lease is over; a process claims only the channels it
serves. In the `[postgres]` variants the two dispatchers really claim side by side.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from bot.channels.console import CHANNEL, ConsoleChannel
from bot.dispatcher import OutboxDispatcher
from bot.runtime import Runtime
from handlers.messages import Reply, encode_reply
from storage import outbox
from tests.conftest import Clock

World = tuple[Runtime, list[tuple[str, str]]]


def dispatcher(rt: Runtime, clock: Clock, output: list[tuple[str, str]]) -> OutboxDispatcher:
    """A second worker's dispatcher on the same database, writing to its own terminal."""
    console = ConsoleChannel(write=lambda chat, text: output.append((chat, text.strip())))
    return OutboxDispatcher(rt.sessions, {CHANNEL: console}, clock=clock)


async def write(rt: Runtime, clock: Clock, messages: list[tuple[str, str]]) -> None:
    async with rt.sessions() as session, session.begin():
        rows = [
            outbox.Outgoing(CHANNEL, chat, encode_reply(Reply(text))) for chat, text in messages
        ]
        await outbox.enqueue(rows, clock.now, session=session)


async def test_two_dispatchers_send_every_message_once_in_order_per_chat(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    second = dispatcher(rt, clock, output)  # one terminal: the order of arrival is kept
    chats = [f"chat-{n}" for n in range(40)]
    for part in range(3):
        await write(rt, clock, [(chat, f"{chat} #{part}") for chat in chats])
        await asyncio.gather(rt.dispatcher.deliver_due(), second.deliver_due())
    sent = [(chat, text.strip()) for chat, text in output]
    assert Counter(text for _, text in sent) == Counter(
        f"{chat} #{part}" for chat in chats for part in range(3)
    ), "every message sent exactly once"
    for chat in chats:
        assert [text for to, text in sent if to == chat] == [f"{chat} #{p}" for p in range(3)]


async def test_a_crashed_workers_chats_are_taken_over_after_the_lease(
    runtime: World, clock: Clock
) -> None:
    rt, output = runtime
    await write(rt, clock, [("citizen-7", "Câu hỏi 1"), ("citizen-7", "Câu hỏi 2")])
    async with rt.sessions() as session, session.begin():
        claimed = await outbox.claim(
            10,
            worker="crashed-host/4242/abc",
            news=False,
            channels=[CHANNEL],
            now=clock.now,
            lease=timedelta(seconds=60),
            session=session,
        )
    assert [row.chat_id for row in claimed] == ["citizen-7", "citizen-7"]
    await write(rt, clock, [("citizen-7", "Câu hỏi 3")])
    assert await rt.dispatcher.deliver_due() == 0, "the live claim keeps others away"
    async with rt.sessions() as session:
        wake = await outbox.next_due(
            clock.now, worker=rt.dispatcher.worker, channels=[CHANNEL], session=session
        )
    assert wake == clock.now + timedelta(seconds=60), "the others look again when it ends"
    clock.advance(seconds=61)
    assert await rt.dispatcher.deliver_due() == 3
    assert [text.strip() for _, text in output] == ["Câu hỏi 1", "Câu hỏi 2", "Câu hỏi 3"]


async def test_a_worker_claims_only_the_channels_it_serves(runtime: World, clock: Clock) -> None:
    rt, output = runtime
    async with rt.sessions() as session, session.begin():
        payload = encode_reply(Reply("Xin chào"))
        await outbox.enqueue(
            [outbox.Outgoing("zalo", "zalo-1", payload)], clock.now, session=session
        )
    await write(rt, clock, [("citizen-1", "Xin chào")])
    assert await rt.dispatcher.deliver_due() == 1
    async with rt.sessions() as session, session.begin():
        zalo = await outbox.claim(
            10,
            worker="zalo-worker",
            news=False,
            channels=["zalo"],
            now=clock.now,
            lease=timedelta(seconds=60),
            session=session,
        )
    assert [row.chat_id for row in zalo] == ["zalo-1"], "left for the process serving Zalo"
    assert [(chat, text.strip()) for chat, text in output] == [("citizen-1", "Xin chào")]
