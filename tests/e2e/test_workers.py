"""Two `feedbackbot serve` workers on one PostgreSQL database, one of them killed midway.

On PostgreSQL only (marked `postgres`): SQLite serves one process. Citizens write by webhook
to either worker (the reverse proxy's choice), some updates arrive twice, and one worker is
SIGKILLed halfway. What must hold: every update processed once; every reply sent, in the order
written per chat; a message sent twice only if the killed worker had claimed it and not yet
recorded it as sent (the crash window `storage.outbox` documents); no reminder queued twice
though both workers run the scheduler.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.channels.telegram import CHANNEL
from bot.runtime import Runtime, open_runtime
from handlers.casework.escalation import deadlines
from handlers.flow import Rules
from handlers.texts import Texts
from storage.models import Alert, OutboxMessage, ProcessedUpdate
from storage.outbox import PENDING
from tests.casework import bulk_cases, invite_code
from tests.conftest import make_settings
from tests.fakes import FakeTelegramServer
from tests.workers import Worker, deliver, says, sent_texts, serve_worker, written

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CITIZENS = 200
STEPS = 10
"""Updates per citizen (`tests.workers.says`)."""
TWICE_EVERY = 5
"""Every fifth update is delivered a second time, to the other worker."""
CASES = 10
"""Cases whose reminder to acknowledge is due: both workers' schedulers find them."""
LEASE_SECONDS = 5
OFFICER = 9001


async def test_two_workers_one_killed_process_every_update_once_and_send_every_reply(
    tmp_path: Path, database_url: str
) -> None:
    rt = await open_runtime(make_settings(tmp_path, database_url=database_url), {})
    try:
        async with FakeTelegramServer() as tg:
            await _run(rt, tg, tmp_path, database_url)
    finally:
        await rt.close()


async def _run(rt: Runtime, tg: FakeTelegramServer, folder: Path, url: str) -> None:
    options = {"OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS), "SCHEDULER_INTERVAL_SECONDS": "1"}
    async with (
        serve_worker(tg, url, folder, **options) as first,
        serve_worker(tg, url, folder, **options) as second,
        httpx.AsyncClient(trust_env=False, timeout=30) as http,
    ):
        workers = [first, second]
        code = await invite_code(rt, "615-MC", "leader")
        await deliver(http, tg.send_text(OFFICER, f"/join {code}"), [first])
        await bulk_cases(rt, [_reminder_due_now()] * CASES)
        posted = 0
        killed = asyncio.Event()
        crash_window: set[int] = set()

        async def citizen(chat: int) -> None:
            nonlocal posted
            for step in range(STEPS):
                update = tg.send_text(chat, says(step))
                order = workers if (chat + step) % 2 else workers[::-1]
                took = await deliver(http, update, order)
                if step % TWICE_EVERY == TWICE_EVERY - 1:
                    await deliver(http, update, [w for w in order if w is not took] + [took])
                posted += 1
                if posted == CITIZENS * STEPS // 2 and not killed.is_set():
                    killed.set()
                    second.freeze()
                    crash_window.update(await _claimed_by(rt, second))
                    second.kill()

        await asyncio.gather(*(citizen(1001 + n) for n in range(CITIZENS)))
        await _settled(rt, first)
    assert killed.is_set()
    async with rt.sessions() as session:
        processed = await session.scalar(
            select(func.count())
            .select_from(ProcessedUpdate)
            .where(ProcessedUpdate.channel == CHANNEL)
        )
        alerts = await session.scalar(
            select(func.count()).select_from(Alert).where(Alert.kind == "ack_remind")
        )
    assert processed == CITIZENS * STEPS + 1, "every update processed once (and the /join)"
    assert alerts == CASES
    expected = await written(rt.sessions, [*range(1001, 1001 + CITIZENS), OFFICER])
    duplicates = 0
    for chat in range(1001, 1001 + CITIZENS):
        duplicates += _check_chat(chat, sent_texts(tg, chat), expected[chat], crash_window)
        assert len(expected[chat]) >= STEPS, "a reply to every update"
    duplicates += _check_chat(OFFICER, sent_texts(tg, OFFICER), expected[OFFICER], crash_window)
    reminders = [t for _, t in expected[OFFICER] if _REMINDER.match(t)]
    assert len(reminders) == CASES == len(set(reminders)), "each reminder queued once"
    assert duplicates <= len(crash_window)


_REMINDER = re.compile(
    re.sub(
        r"\\\{\w+\\\}",
        ".+?",
        re.escape(
            Texts("vi")(
                "officer.remind_ack",
                **{name: f"{{{name}}}" for name in ("case", "category", "due")},
            )
        ),
    ),
    re.DOTALL,
)
"""The reminder's text with any case, category and date (a link to the case may follow)."""


def _reminder_due_now() -> datetime:
    """An opening moment whose deadline to acknowledge is near enough for its reminder and not
    yet past, whatever day the test runs on (working days skip weekends and holidays)."""
    now, calendar = datetime.now(UTC), Rules().calendar
    for hours in range(1, 24 * 14):
        opened = now - timedelta(hours=hours)
        ack_due, _ = deadlines(Rules(), "harassment", opened)
        if calendar.working_day_before(ack_due) <= now < ack_due - timedelta(minutes=10):
            return opened
    raise AssertionError("no moment puts a reminder due now")


async def _claimed_by(rt: Runtime, worker: Worker) -> list[int]:
    """The messages the killed worker held and had not recorded as sent: the crash window."""
    async with rt.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.status == PENDING,
                OutboxMessage.claimed_by.like(f"%/{worker.process.pid}/%"),
            )
        )
        return list(rows.all())


async def _settled(rt: Runtime, survivor: Worker) -> None:
    """Until the survivor has sent everything (the killed worker's chats after their lease)
    and the schedulers have recorded every reminder."""
    unsent = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING)
    reminded = select(func.count()).select_from(Alert).where(Alert.kind == "ack_remind")
    for _ in range(300):
        async with rt.sessions() as session:
            if await session.scalar(reminded) == CASES and not await session.scalar(unsent):
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"messages left unsent or reminders not sent:\n{survivor.tail()}")


def _check_chat(
    chat: int, sent: list[str], written: list[tuple[int, str]], crash_window: set[int]
) -> int:
    """Sent is written, in order; a message again right after itself only if it was in the
    crash window. Returns how many were sent twice."""
    position, again = 0, 0
    for text in sent:
        if position < len(written) and text == written[position][1]:
            position += 1
            continue
        previous = written[position - 1] if position else None
        assert previous is not None and text == previous[1], f"chat {chat}: out of order"
        assert previous[0] in crash_window, f"chat {chat}: sent twice outside the crash window"
        again += 1
    assert position == len(written), f"chat {chat}: {len(written) - position} replies missing"
    return again
