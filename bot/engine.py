"""The turn engine: one transaction per incoming message.

Inside it: the update is recorded as processed (a redelivery is dropped), the chat's conversation
is loaded, the handlers run, the new state, the domain rows and every reply (into the outbox) are
written. Only after the commit does the adapter acknowledge the update and the dispatcher send.
Turns of one chat run one at a time, in arrival order; different chats run in parallel.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.citizen.privacy import scrubbed
from handlers.clock import Clock, system_clock
from handlers.flow import DialogState, Rules, Turn
from handlers.messages import ConversationKey, Incoming, Reply, TurnResult, encode_reply
from handlers.router import repeat_question, respond
from handlers.texts import DEFAULT_LOCALE, Texts, pick_locale
from storage.conversations import claim_update, read_dialog, save_dialog
from storage.db import is_transient_conflict
from storage.outbox import Outgoing, enqueue, has_pending

log = logging.getLogger(__name__)

SYSTEM_KEY = ConversationKey("system", "scheduler")
TURN_ATTEMPTS = 4
RETRY_PAUSE_SECONDS = 0.02
"""The first retry waits up to 40 ms, the last up to 160 ms."""


class KeyedLocks:
    """One asyncio lock per conversation, dropped when nobody waits on it."""

    def __init__(self) -> None:
        self._locks: dict[ConversationKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: ConversationKey) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class TurnEngine:
    """Runs turns; `on_outbox` is told when replies are waiting (the dispatcher's wake-up)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rules: Rules,
        *,
        clock: Clock = system_clock,
        on_outbox: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._rules = rules
        self._clock = clock
        self._on_outbox = on_outbox
        self._locks = KeyedLocks()

    async def handle(self, incoming: Incoming) -> TurnResult:
        """Process one update exactly once; never raises for anything the user sent."""
        async with self._locks.hold(incoming.key):
            try:
                incoming = await scrubbed(incoming, self._rules.evidence_max_bytes)
                result = await self._run_retried(incoming)
            except Exception:
                log.exception("turn failed on channel %s", incoming.key.channel)
                result = await self._apologise(incoming)
        if result.outbox_ids and self._on_outbox is not None:
            self._on_outbox()
        return result

    async def _run_retried(self, incoming: Incoming) -> TurnResult:
        """The turn, run again when the database broke a lock cycle or a serialization
        conflict by rolling it back (nothing of it was kept): a few times, after a random
        pause that grows, so the two turns that met do not meet again."""
        for attempt in range(1, TURN_ATTEMPTS):
            try:
                return await self._run(incoming)
            except Exception as error:
                if not is_transient_conflict(error):
                    raise
                log.warning("turn met a conflict (attempt %d), retrying: %s", attempt, error)
            await asyncio.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * 2**attempt))
        return await self._run(incoming)

    async def _run(self, incoming: Incoming) -> TurnResult:
        now = self._clock()
        key = incoming.key
        async with self._sessions() as session, session.begin():
            if not await claim_update(key.channel, incoming.update_id, now, session=session):
                return TurnResult(duplicate=True)
            stored = await read_dialog(key.channel, key.chat_id, session=session)
            dialog = _dialog_of(stored, incoming)
            turn = Turn(incoming, dialog, session, self._rules, now)
            await respond(turn)
            ids = await _store(turn)
            return TurnResult(notice=turn.notice, chosen_label=turn.chosen_label, outbox_ids=ids)

    async def ask_again(self, key: ConversationKey) -> None:
        """Ask a chat its current question again after a reply to it was given up; not while
        newer messages to it still wait (the last of them decides)."""
        async with self._locks.hold(key):
            now = self._clock()
            async with self._sessions() as session, session.begin():
                if await has_pending(key.channel, key.chat_id, session=session):
                    return
                stored = await read_dialog(key.channel, key.chat_id, session=session)
                if stored is None:
                    return
                incoming = Incoming(key=key, update_id="", user_id=key.chat_id)
                turn = Turn(incoming, _dialog_of(stored, incoming), session, self._rules, now)
                await repeat_question(turn)
                if not turn.replies:
                    return
                ids = await _store(turn)
        if ids and self._on_outbox is not None:
            self._on_outbox()

    async def run_job(self, job: Callable[[Turn], Awaitable[None]]) -> int:
        """Run a background job (the scheduler's round) in one transaction, as a turn of the
        system itself: what it sends goes to the outbox like any reply. Returns messages queued."""
        now = self._clock()
        incoming = Incoming(key=SYSTEM_KEY, update_id="", user_id=SYSTEM_KEY.chat_id)
        async with self._sessions() as session, session.begin():
            turn = Turn(
                incoming, DialogState(state="", locale=DEFAULT_LOCALE), session, self._rules, now
            )
            await job(turn)
            ids = await enqueue(_outgoing(turn.elsewhere), now, session=session)
        if ids and self._on_outbox is not None:
            self._on_outbox()
        return len(ids)

    async def _apologise(self, incoming: Incoming) -> TurnResult:
        """After a failed turn: mark the update handled and tell the user; change nothing else."""
        now = self._clock()
        key = incoming.key
        try:
            async with self._sessions() as session, session.begin():
                if not await claim_update(key.channel, incoming.update_id, now, session=session):
                    return TurnResult(duplicate=True)
                stored = await read_dialog(key.channel, key.chat_id, session=session)
                locale = stored.locale if stored else pick_locale(incoming.language)
                reply = Reply(Texts(locale)("common.error"))
                ids = await enqueue(_outgoing([(key, reply)]), now, session=session)
                return TurnResult(outbox_ids=ids)
        except Exception:
            log.exception("could not record the failed turn on channel %s", key.channel)
            return TurnResult(failed=True)


async def _store(turn: Turn) -> list[int]:
    """Save the chat's new state and queue the turn's replies; the outbox ids."""
    key, dialog = turn.incoming.key, turn.dialog
    await save_dialog(
        key.channel,
        key.chat_id,
        turn.now,
        state=dialog.state,
        locale=dialog.locale,
        data=dialog.data,
        offered=dialog.offered,
        session=turn.session,
    )
    mine = [(key, reply) for reply in turn.replies]
    return await enqueue(_outgoing(mine + turn.elsewhere), turn.now, session=turn.session)


def _dialog_of(stored: Row[Any] | None, incoming: Incoming) -> DialogState:
    if stored is None:
        return DialogState(state="", locale=pick_locale(incoming.language))
    return DialogState(stored.state, stored.locale, stored.data, stored.offered)


def _outgoing(replies: Iterable[tuple[ConversationKey, Reply]]) -> list[Outgoing]:
    return [Outgoing(key.channel, key.chat_id, encode_reply(reply)) for key, reply in replies]
