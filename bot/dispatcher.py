"""Delivers the outbox: in order per chat, paced, with retries.

Each chat's messages go out in the order they were written; a message waiting for a retry holds
back the later ones of its chat only. A 429 pauses the whole channel for retry_after (Telegram
refuses every call of the token meanwhile). Network errors, timeouts and 5xx say the platform is
down: they open the channel's circuit breaker (`bot/breaker.py`), which holds every message back
and probes with one now and then, so an outage spends no message's chances; when a probe goes
through, whatever waited is due at once. A message is given up only on a permanent error (a
blocked user is also marked unreachable) or once it is older than the policy's horizon; a
conversation whose reply was given up that way gets its current question again. Per-chat
pacing uses aiolimiter's leaky bucket; the platform-wide limit is the adapter's
(python-telegram-bot's AIORateLimiter).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.breaker import CircuitBreaker
from bot.channels.base import Channel, Rejected, RetryLater, Transient, Unreachable
from handlers.clock import Clock, system_clock
from handlers.messages import ConversationKey, OutgoingFile, Reply, decode_reply
from storage import outbox
from storage.announcements import mark_unreachable
from storage.outbox import Delivery

log = logging.getLogger(__name__)

_BATCH = 500
_MAX_CHAT_LIMITERS = 10_000
_IDLE_WAIT_SECONDS = 30.0
_JITTER_MARGIN = 1.05
"""Slots 5% wider than the rate, so network jitter cannot squeeze one extra send into a second."""
FileMaker = Callable[[dict[str, Any]], Awaitable[OutgoingFile | str]]
"""Makes what a reply's `file_request` asks for: a file, or the reply's text."""
AskAgain = Callable[[ConversationKey], Awaitable[None]]
"""Asks a chat its current question again (the engine's), after a reply to it was given up."""


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    give_up_after: timedelta = timedelta(hours=24)
    """A message older than this is given up instead of sent."""
    first_pause: timedelta = timedelta(seconds=1)
    max_pause: timedelta = timedelta(minutes=1)
    """An open breaker probes after `first_pause`, twice as long after each failed probe, at
    most `max_pause`: a platform back after an outage is found within a minute."""
    concurrency: int = 32
    broadcast_per_second: float = 20.0
    """Announcements go out evenly spaced at this rate, below the platform's 30/s, so live
    conversations keep headroom."""
    lease_seconds: float = 60.0
    """How long a claim on a chat's messages lasts without renewal: after a worker's crash,
    another takes its chats over this much later."""


def worker_name() -> str:
    """Who claims outbox rows: the host and process, and a random part for two dispatchers in
    one process (the tests)."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"


class OutboxDispatcher:
    """Sends pending outbox rows through the channel adapters.

    Each chat is delivered by its own task, so a chat that waits (for its file, its pacing or
    a retry) holds back only itself: a pass starts what is due and returns at once. Rows are
    claimed before they are sent (`storage.outbox.claim`), so dispatchers of several worker
    processes share one outbox; each pass renews this one's leases when a third has passed.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        *,
        policy: DeliveryPolicy | None = None,
        clock: Clock = system_clock,
        makers: Mapping[str, FileMaker] | None = None,
        ask_again: AskAgain | None = None,
    ) -> None:
        self._sessions = sessions
        self._ask_again = ask_again
        self._makers = dict(makers or {})
        self._channels = dict(channels)
        self._policy = policy or DeliveryPolicy()
        self._clock = clock
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._paused_until: dict[str, float] = {}
        self._breakers = {
            name: CircuitBreaker(
                first_pause=self._policy.first_pause, max_pause=self._policy.max_pause
            )
            for name in self._channels
        }
        self._limiters: OrderedDict[tuple[str, str], AsyncLimiter] = OrderedDict()
        self._slots = asyncio.Semaphore(self._policy.concurrency)
        self._broadcast_lock = asyncio.Lock()
        self._next_broadcast = 0.0
        self._pass = asyncio.Lock()
        self._in_flight: dict[str, asyncio.Task[int]] = {}
        """The task delivering each chat (by chat_ref) right now."""
        self._news: asyncio.Task[int] | None = None
        self._next_due: datetime | None = None
        self._unserved: set[str] = set()
        self._unserved_checked_at: float | None = None
        self.worker = worker_name()
        self._lease = timedelta(seconds=self._policy.lease_seconds)
        self._renewed_at = 0.0

    def channels_down(self) -> list[str]:
        """The channels paused by an outage right now (for the health check)."""
        return sorted(name for name, breaker in self._breakers.items() if not breaker.closed)

    def wake(self) -> None:
        """Ask for a delivery pass now (called after a turn commits)."""
        self._idle.clear()
        self._wake.set()

    async def idle(self) -> None:
        """Return once `run` has found nothing due and delivers no chat: whatever the turns
        committed so far has been sent (tests wait on this instead of sleeping)."""
        await self._idle.wait()

    async def run(self) -> None:
        """Deliver until cancelled, sleeping until the next message is due or a wake-up."""
        try:
            while True:
                self._wake.clear()
                try:
                    started = await self._start_due()
                except Exception:  # a database hiccup must not stop delivery for good
                    log.exception("delivery pass failed; will try again")
                else:
                    if not started and not self._in_flight and not self._wake.is_set():
                        self._idle.set()
                # asyncio.timeout awaits the wait itself; wait_for would wrap it in a task that a
                # cancellation can drop before it starts ("coroutine was never awaited").
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._seconds_to_next()):
                        await self._wake.wait()
        finally:
            await self._stop()

    async def deliver_due(self) -> int:
        """One pass over pending messages whose time has come, waiting until they are sent
        (the terminal chat and the tests); returns how many were sent."""
        started = await self._start_due()
        return sum(await asyncio.gather(*started))

    async def _start_due(self) -> list[asyncio.Task[int]]:
        """Claim and start a task for every chat whose next message is due and that no task
        delivers; announcements a slice at a time, while no slice is under way. Of a channel
        that is down nothing is claimed but, once its pause is over, one chat: the probe."""
        async with self._pass:
            news_free = self._news is None or self._news.done()
            now = self._clock()
            working = [name for name, breaker in self._breakers.items() if breaker.closed]
            probing = [
                name
                for name, breaker in self._breakers.items()
                if not breaker.closed and breaker.may_probe(now)
            ]
            async with self._sessions() as session, session.begin():
                await self._report_unserved(session)
                await self._renew(now, session)
                live = await self._claim(now, False, _BATCH, session, working)
                # About two seconds of announcements at a time, so replies to people who are
                # chatting never wait long behind a broadcast; the next part follows when
                # this one is done.
                slice_ = max(1, int(2 * self._policy.broadcast_per_second))
                busy = [queue[0].chat_ref for queue in live]
                news = (
                    await self._claim(now, True, slice_, session, working, busy)
                    if news_free
                    else []
                )
                for name in probing:
                    probe = await self._claim(now, False, 1, session, [name])
                    if not probe and news_free:
                        news += await self._claim(now, True, 1, session, [name], busy)
                    live += probe
                retry = await outbox.next_due(
                    now, worker=self.worker, channels=[*working, *probing], session=session
                )
            self._next_due = min(
                [
                    at
                    for at in (retry, *(breaker.reopens_at for breaker in self._breakers.values()))
                    if at is not None and at > now
                ],
                default=None,
            )
            started = [self._start([queue], self._deliver_live(queue)) for queue in live]
            if news:
                self._news = self._start(news, self._deliver_news(news))
                started.append(self._news)
            return started

    async def _claim(
        self,
        now: datetime,
        news: bool,
        limit: int,
        session: AsyncSession,
        channels: Collection[str],
        busy: Collection[str] = (),
    ) -> list[list[Delivery]]:
        """Claim due chats of `channels` that no task here delivers, nor `busy` (just
        claimed)."""
        rows = await outbox.claim(
            limit,
            worker=self.worker,
            news=news,
            channels=channels,
            skip=[*self._in_flight, *busy],
            now=now,
            lease=self._lease,
            session=session,
        )
        return _by_chat(rows)

    async def _renew(self, now: datetime, session: AsyncSession) -> None:
        """The heartbeat: once a third of the lease passed, extend the claims of the chats
        being delivered (others' lapse: a failed task's chats are taken over in time)."""
        clock = asyncio.get_running_loop().time()
        if not self._in_flight or clock - self._renewed_at < self._policy.lease_seconds / 3:
            return
        self._renewed_at = clock
        await outbox.renew_leases(
            self.worker, self._in_flight.keys(), now + self._lease, session=session
        )

    def _start(
        self, queues: list[list[Delivery]], delivery: Coroutine[Any, Any, int]
    ) -> asyncio.Task[int]:
        task = asyncio.create_task(delivery)
        refs = [queue[0].chat_ref for queue in queues]
        self._in_flight.update(dict.fromkeys(refs, task))
        task.add_done_callback(lambda done: self._finished(done, refs))
        return task

    def _finished(self, task: asyncio.Task[int], refs: list[str]) -> None:
        """Free the chats for the next pass, which may find more of their messages."""
        for ref in refs:
            self._in_flight.pop(ref, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery stopped; will try again", exc_info=task.exception())
        self.wake()

    async def _stop(self) -> None:
        """Stop delivering and give the chats back, so another worker need not await the
        lease."""
        tasks = set(self._in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            async with self._sessions() as session, session.begin():
                await outbox.release_all(self.worker, session=session)
        except Exception:  # stopping anyway: the lease frees them a little later
            log.warning("could not give back the claimed messages", exc_info=True)

    async def _report_unserved(self, session: AsyncSession) -> None:
        """Warn once per channel that messages wait for a messenger this process does not
        serve (another process may; if none does, they stay pending); looked at every
        idle interval, never spun on."""
        now = asyncio.get_running_loop().time()
        checked = self._unserved_checked_at
        if checked is not None and now - checked < _IDLE_WAIT_SECONDS:
            return
        self._unserved_checked_at = now
        for name in await outbox.unserved_channels(self._channels, session=session):
            if name not in self._unserved:
                self._unserved.add(name)
                log.warning(
                    "messages wait for channel %s, which this process does not serve", name
                )

    def _seconds_to_next(self) -> float:
        """Until the earliest retry of a chat that no task delivers (a task's end wakes us),
        and while chats are being delivered, until their leases need renewing."""
        longest = _IDLE_WAIT_SECONDS
        if self._in_flight:
            longest = min(longest, self._policy.lease_seconds / 3)
        if self._next_due is None:
            return longest
        due = (self._next_due - self._clock()).total_seconds()
        return max(0.05, min(longest, due))

    async def _deliver_live(self, queue: list[Delivery]) -> int:
        async with self._slots:
            return await self._deliver_chat(queue)

    async def _deliver_news(self, queues: list[list[Delivery]]) -> int:
        """Announcements take no slot: the broadcast pacing already bounds them."""
        return sum(await asyncio.gather(*(self._deliver_chat(queue) for queue in queues)))

    async def _deliver_chat(self, queue: list[Delivery]) -> int:
        """Send one chat's messages in order, stopping at the first that must wait."""
        sent = 0
        for row in queue:
            if not await self._deliver(row):
                break
            sent += 1
        return sent

    async def _deliver(self, row: Delivery) -> bool:
        """Send one message; False when it must wait, and its chat's later ones with it."""
        channel = self._channels[row.channel]
        breaker = self._breakers[row.channel]
        await self._respect_pause(row.channel)
        if self._clock() - row.created_at >= self._policy.give_up_after:
            await self._expire(row)
            return True
        if not breaker.admit(self._clock()):
            return False
        await self._pace(channel, row.chat_id)
        if row.batch is not None:
            await self._broadcast_slot()
        try:
            await self._send_parts(channel, row)
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
            if breaker.failed(self._clock()):
                log.warning(
                    "channel %s is down (%s); delivery paused, probing", row.channel, error
                )
            # No longer than the breaker's longest pause: a chat with one message waiting is
            # the probe, and must find the platform back as soon as the breaker would.
            cap = self._policy.max_pause.total_seconds()
            await self._retry(row, str(error), outbox.backoff(row.attempts, cap=cap))
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
        if breaker.succeeded():
            await self._channel_back(row.channel)
        return True

    async def _channel_back(self, channel: str) -> None:
        """A probe went through after an outage: what waited for a retry is due now."""
        log.warning("channel %s delivers again", channel)
        async with self._sessions() as session, session.begin():
            await outbox.due_now(channel, self._clock(), session=session)
        self.wake()

    async def _expire(self, row: Delivery) -> None:
        """Give up a message older than the horizon; a chat in the middle of a conversation
        then gets its current question again (delivered once the channel works)."""
        horizon = self._policy.give_up_after
        await self._give_up(row, outbox.FAILED, f"not delivered within {horizon}")
        if row.batch is None and self._ask_again is not None:
            await self._ask_again(ConversationKey(row.channel, row.chat_id))

    async def _send_parts(self, channel: Channel, row: Delivery) -> None:
        """Send the parts of a reply not delivered yet, recording each but the last as it goes
        out, so a retry resends only what failed (a crash in between, at most one part)."""
        parts = channel.parts(await self._with_file(decode_reply(row.payload)))
        for number in range(row.parts_sent, len(parts)):
            await channel.send_part(row.chat_id, parts[number])
            if number + 1 < len(parts):
                async with self._sessions() as session, session.begin():
                    await outbox.mark_parts_sent(row.id, number + 1, session=session)

    async def _with_file(self, reply: Reply) -> Reply:
        """Make what a reply asked for (a chart, an export, a summary's text) now, after the
        turn."""
        if reply.file_request is None:
            return reply
        maker = self._makers[reply.file_request.kind]
        made = await maker(reply.file_request.params)
        if isinstance(made, str):
            return replace(reply, text=made, file_request=None)
        return replace(reply, file=made, file_request=None)

    async def _retry(self, row: Delivery, error: str, delay: timedelta) -> None:
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


def _by_chat(rows: list[Delivery]) -> list[list[Delivery]]:
    """Rows grouped per chat, each chat's in the order they were written."""
    by_chat: dict[str, list[Delivery]] = {}
    for row in rows:
        by_chat.setdefault(row.chat_ref, []).append(row)
    return list(by_chat.values())
