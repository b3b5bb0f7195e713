"""Chat lanes: different chats at once and within a bound, one chat's turns in arrival order."""

from __future__ import annotations

import asyncio

from bot.channels.lanes import Lanes
from handlers.messages import ConversationKey, Incoming


def update(chat: str, n: int) -> Incoming:
    return Incoming(key=ConversationKey("test", chat), update_id=f"{chat}-{n}", user_id=chat)


async def test_a_chat_keeps_its_order_even_when_its_first_turn_waits_longest() -> None:
    lanes, done = Lanes(4), []

    async def job(incoming: Incoming) -> bool:
        if incoming.update_id == "a-1":
            await asyncio.sleep(0.05)  # a download before the turn
        done.append(incoming.update_id)
        return True

    runs = [lanes.run(update("a", n), job) for n in (1, 2, 3)]
    assert await asyncio.gather(*runs) == [True, True, True]
    assert done == ["a-1", "a-2", "a-3"]


async def test_other_chats_run_meanwhile_but_never_more_than_the_limit() -> None:
    lanes, running, most = Lanes(2), set(), 0
    b_done = asyncio.Event()

    async def job(incoming: Incoming) -> bool:
        nonlocal most
        running.add(incoming.key)
        most = max(most, len(running))
        if incoming.key.chat_id == "a":
            await asyncio.wait_for(b_done.wait(), timeout=5)  # only if b runs while a waits
        await asyncio.sleep(0.01)
        if incoming.key.chat_id == "b":
            b_done.set()
        running.discard(incoming.key)
        return True

    runs = [lanes.run(update(chat, 1), job) for chat in "abcde"]
    assert all(await asyncio.gather(*runs))
    assert most == 2


async def test_a_turn_behind_one_not_stored_is_held_back_for_both_to_come_again() -> None:
    lanes, ran = Lanes(4), []

    async def job(incoming: Incoming) -> bool:
        ran.append(incoming.update_id)
        return incoming.update_id != "a-1"

    first, second = lanes.run(update("a", 1), job), lanes.run(update("a", 2), job)
    other = lanes.run(update("b", 1), job)
    assert await asyncio.gather(first, second, other) == [False, False, True]
    assert sorted(ran) == ["a-1", "b-1"]
    assert await lanes.run(update("a", 2), job), "the lane serves again afterwards"


async def test_nothing_to_do_is_done_and_room_waits_for_a_free_place() -> None:
    lanes, release = Lanes(1), asyncio.Event()

    async def job(incoming: Incoming) -> bool:
        await release.wait()
        return True

    assert await lanes.run(None, job)
    busy = lanes.run(update("a", 1), job)
    room = asyncio.create_task(lanes.room())
    await asyncio.sleep(0.01)
    assert not room.done()
    release.set()
    await asyncio.wait_for(room, timeout=5)
    assert await busy
