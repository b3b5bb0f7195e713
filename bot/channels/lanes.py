"""Chat lanes: adapters run turns of different chats at once, and one chat's in arrival order.

The engine's per-chat lock keeps two turns of one chat apart but cannot keep their order: work an
adapter does before the turn (downloading a photo) may let a later message of the same chat reach
the lock first. A lane fixes the order when the update arrives, before anything is awaited.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from functools import partial

from handlers.messages import ConversationKey, Incoming

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 16

Job = Callable[[Incoming], Awaitable[bool]]
"""The adapter's work for one update; True once the turn is stored (the update may be
acknowledged), False when it must come again."""


class Lanes:
    """At most `limit` turns at once; a chat's turns one after another, in submission order."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._tails: dict[ConversationKey, asyncio.Task[bool]] = {}
        self._pending: set[asyncio.Task[bool]] = set()

    def run(self, incoming: Incoming | None, job: Job) -> Awaitable[bool]:
        """Start `job(incoming)` behind the chat's earlier turns; nothing to do (None) is done.

        Must be called in arrival order: the place in the lane is taken here, synchronously."""
        if incoming is None:
            done = asyncio.get_running_loop().create_future()
            done.set_result(True)
            return done
        key = incoming.key
        task = asyncio.create_task(self._in_turn(self._tails.get(key), incoming, job))
        self._tails[key] = task
        self._pending.add(task)
        task.add_done_callback(partial(self._forget, key))
        return task

    async def room(self) -> None:
        """Wait until fewer than `limit` turns wait or run: a poller's back-pressure."""
        while len(self._pending) >= self.limit:
            await asyncio.wait(self._pending, return_when=asyncio.FIRST_COMPLETED)

    async def cancel(self) -> None:
        """Stop every turn not yet finished (at shutdown); an unfinished turn commits nothing."""
        await cancel_all(self._pending)

    async def _in_turn(
        self, previous: asyncio.Task[bool] | None, incoming: Incoming, job: Job
    ) -> bool:
        # Behind a turn that was not stored this one is not run either, so that both come
        # again in their order (polling offset, webhook retry) rather than this one first.
        if previous is not None and not await _stored(previous):
            log.warning("update %s held back behind one not stored", incoming.update_id)
            return False
        async with self._slots:
            return await job(incoming)

    def _forget(self, key: ConversationKey, task: asyncio.Task[bool]) -> None:
        self._pending.discard(task)
        if self._tails.get(key) is task:
            del self._tails[key]


async def _stored(task: asyncio.Task[bool]) -> bool:
    """Whether a turn ended stored, waiting for it without passing on a cancellation."""
    await asyncio.wait([task])
    return not task.cancelled() and task.exception() is None and task.result()


async def cancel_all(tasks: Iterable[asyncio.Task[object]]) -> None:
    """Cancel background tasks and wait until they are gone, so none outlives its owner."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
