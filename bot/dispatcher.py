"""Delivers the outbox: in order per chat, paced, with retries.

Each chat's messages go out in the order they were written; a message waiting for a retry holds
back the later ones of its chat only. A 429 pauses the whole channel for retry_after (Telegram
refuses every call of the token meanwhile); network errors and 5xx back off exponentially; a
blocked user is marked unreachable and never retried. Per-chat pacing uses aiolimiter's leaky
bucket; the platform-wide limit is the adapter's (python-telegram-bot's AIORateLimiter).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Channel, Rejected, RetryLater, Transient, Unreachable
from handlers.clock import Clock, system_clock
from handlers.messages import OutgoingFile, Reply, decode_reply
from storage import outbox
from storage.announcements import mark_unreachable
from storage.outbox import Delivery

log = logging.getLogger(__name__)

_BATCH = 500
_MAX_CHAT_LIMITERS = 10_000
_IDLE_WAIT_SECONDS = 30.0
_JITTER_MARGIN = 1.05
"""Slots 5% wider than the rate, so network jitter cannot squeeze one extra send into a second."""
FileMaker = Callable[[dict[str, Any]], Awaitable[OutgoingFile]]


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_attempts: int = 8
    concurrency: int = 32
    broadcast_per_second: float = 20.0
    """Announcements go out evenly spaced at this rate, below the platform's 30/s, so live
    conversations keep headroom."""


class OutboxDispatcher:
    """Sends pending outbox rows through the channel adapters."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        *,
        policy: DeliveryPolicy | None = None,
        clock: Clock = system_clock,
        makers: Mapping[str, FileMaker] | None = None,
    ) -> None:
        self._sessions = sessions
        self._makers = dict(makers or {})
        self._channels = dict(channels)
        self._policy = policy or DeliveryPolicy()
        self._clock = clock
        self._wake = asyncio.Event()
        self._paused_until: dict[str, float] = {}
        self._limiters: OrderedDict[tuple[str, str], AsyncLimiter] = OrderedDict()
        self._slots = asyncio.Semaphore(self._policy.concurrency)
        self._broadcast_lock = asyncio.Lock()
        self._next_broadcast = 0.0
        self._pass = asyncio.Lock()

    def wake(self) -> None:
        """Ask for a delivery pass now (called after a turn commits)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled, sleeping until the next message is due or a wake-up."""
        while True:
            self._wake.clear()
            try:
                await self.deliver_due()
            except Exception:  # a database hiccup must not stop delivery for good
                log.exception("delivery pass failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=await self._seconds_to_next())

    async def deliver_due(self) -> int:
        """One pass over pending messages whose time has come; returns how many were sent."""
        async with self._pass:
            async with self._sessions() as session:
                rows = await outbox.pending(_BATCH, session=session)
            now = self._clock()
            by_chat: dict[tuple[str, str], list[Delivery]] = {}
            for row in rows:
                by_chat.setdefault((row.channel, row.chat_ref), []).append(row)
            ready = [queue for queue in by_chat.values() if queue[0].next_attempt_at <= now]
            live = [queue for queue in ready if queue[0].batch is None]
            # A pass carries about two seconds of announcements, so replies to people who are
            # chatting never wait long behind a broadcast.
            news = [queue for queue in ready if queue[0].batch is not None]
            news = news[: max(1, int(2 * self._policy.broadcast_per_second))]
            sent = await asyncio.gather(*(self._deliver_chat(queue) for queue in live))
            sent += await asyncio.gather(*(self._deliver_chat(queue) for queue in news))
            return sum(sent)

    async def _seconds_to_next(self) -> float:
        async with self._sessions() as session:
            rows = await outbox.pending(_BATCH, session=session)
        if not rows:
            return _IDLE_WAIT_SECONDS
        due = min(row.next_attempt_at for row in rows)
        return max(0.05, min(_IDLE_WAIT_SECONDS, (due - self._clock()).total_seconds()))

    async def _deliver_chat(self, queue: list[Delivery]) -> int:
        """Send one chat's messages in order, stopping at the first that must wait."""
        sent = 0
        async with self._slots:
            for row in queue:
                if not await self._deliver(row):
                    break
                sent += 1
        return sent

    async def _deliver(self, row: Delivery) -> bool:
        channel = self._channels.get(row.channel)
        if channel is None:
            return False
        await self._respect_pause(row.channel)
        await self._pace(channel, row.chat_id)
        if row.batch is not None:
            await self._broadcast_slot()
        try:
            await channel.send(row.chat_id, await self._with_file(decode_reply(row.payload)))
        except RetryLater as error:
            self._pause(row.channel, error.seconds)
            await self._retry(row, str(error), timedelta(seconds=error.seconds))
            return False
        except Unreachable as error:
            await self._give_up(row, outbox.UNREACHABLE, str(error))
            async with self._sessions() as session, session.begin():
                await mark_unreachable(row.channel, row.chat_id, session=session)
            return True
        except Transient as error:
            await self._retry(row, str(error), outbox.backoff(row.attempts))
            return False
        except Rejected as error:
            await self._give_up(row, outbox.FAILED, str(error))
            return True
        except Exception as error:  # an adapter bug: do not loop on it
            log.exception("message %s to %s could not be sent", row.id, row.channel)
            await self._give_up(row, outbox.FAILED, repr(error))
            return True
        async with self._sessions() as session, session.begin():
            await outbox.mark_sent(row.id, self._clock(), session=session)
        return True

    async def _with_file(self, reply: Reply) -> Reply:
        """Make the file a reply asked for (a chart, an export) now, after the turn."""
        if reply.file_request is None:
            return reply
        maker = self._makers[reply.file_request.kind]
        file = await maker(reply.file_request.params)
        return replace(reply, file=file, file_request=None)

    async def _retry(self, row: Delivery, error: str, delay: timedelta) -> None:
        if row.attempts + 1 >= self._policy.max_attempts:
            await self._give_up(row, outbox.FAILED, error)
            return
        log.warning("message %s to %s will be retried: %s", row.id, row.channel, error)
        async with self._sessions() as session, session.begin():
            await outbox.mark_retry(row.id, error, self._clock() + delay, session=session)

    async def _give_up(self, row: Delivery, status: str, error: str) -> None:
        log.warning("message %s to %s not delivered (%s): %s", row.id, row.channel, status, error)
        async with self._sessions() as session, session.begin():
            await outbox.mark_given_up(row.id, status, error, session=session)

    def _pause(self, channel: str, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        self._paused_until[channel] = max(until, self._paused_until.get(channel, 0.0))

    async def _respect_pause(self, channel: str) -> None:
        remaining = self._paused_until.get(channel, 0.0) - asyncio.get_running_loop().time()
        if remaining > 0:
            await asyncio.sleep(remaining)

    async def _broadcast_slot(self) -> None:
        """Evenly spaced slots, so no second ever holds more than the broadcast rate."""
        async with self._broadcast_lock:
            loop = asyncio.get_running_loop()
            slot = max(loop.time(), self._next_broadcast)
            self._next_broadcast = slot + _JITTER_MARGIN / self._policy.broadcast_per_second
            delay = slot - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _pace(self, channel: Channel, chat_id: str) -> None:
        if channel.per_chat_limit is None:
            return
        key = (channel.name, chat_id)
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = AsyncLimiter(*channel.per_chat_limit)
            self._limiters[key] = limiter
            if len(self._limiters) > _MAX_CHAT_LIMITERS:
                self._limiters.popitem(last=False)
        self._limiters.move_to_end(key)
        await limiter.acquire()
