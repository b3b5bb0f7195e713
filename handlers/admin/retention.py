"""The retention policy in one place: what is removed, after how long, and the purge that does it.

- Ratings: after `retention_days`, the comment and the link to the citizen go; the marks stay
  (the daily roll-ups hold them), so every summary stays the same.
- Commendations: after `retention_days`, the text and the link to the citizen go; they still count.
- Reports of cases closed more than `closed_case_retention_days` ago: description, the words
  describing the official, name and phone, files, the case's free text (notes, questions,
  answers) and the link to the citizen go; the case, its outcome and its steps stay.
- Sent messages after a week; processed update ids and the buttons of notifications after 30
  days; files of a report never sent after a day.
- Citizens are kept while their consent stands, even with nothing else left: the row holds only
  the account, the language, the consent and the news opt-in, and /forget deletes it.

The scheduler runs the purge every round, one kind after the other, in batches of `BATCH` rows,
each batch its own short transaction (the write lock is never held long), and counts each kind
in one audit row per round.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.flow import Rules, Turn
from storage import officers, retention

BATCH = 500
OUTBOX_KEPT_DAYS = 7
"""Sent messages are kept a week (to look into a delivery complaint), then deleted."""
PROCESSED_KEPT_DAYS = 30
NOTIFICATION_BUTTONS_KEPT_DAYS = 30
"""A notification's buttons (open the case, answer the question) work a month; the commands
(/case N, /status) always do."""
ABANDONED_FILES_KEPT_DAYS = 1
"""Files attached to a report that was never sent: a day to finish it, then they go."""


class PurgeQuery(Protocol):
    async def __call__(
        self, since: datetime | None, before: datetime, limit: int, *, session: AsyncSession
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class Purge:
    """One kind of purge: its audit action, how many days rows are kept, and the batch query.
    `keeps_rows`: the rows stay (only their personal parts go), so once the past is swept a
    round needs to look only at what aged since the last one."""

    kind: str
    kept_days: Callable[[Rules], int]
    query: PurgeQuery
    keeps_rows: bool = True


POLICY = (
    Purge("purge_rating_links", attrgetter("retention_days"), retention.unlink_ratings),
    Purge("purge_commendations", attrgetter("retention_days"), retention.unlink_commendations),
    Purge(
        "purge_closed_cases",
        attrgetter("closed_case_retention_days"),
        retention.strip_closed_cases,
    ),
    Purge(
        "purge_sent_messages",
        lambda _: OUTBOX_KEPT_DAYS,
        retention.delete_sent_messages,
        keeps_rows=False,
    ),
    Purge(
        "purge_abandoned_files",
        lambda _: ABANDONED_FILES_KEPT_DAYS,
        retention.delete_abandoned_files,
        keeps_rows=False,
    ),
    Purge(
        "purge_processed_updates",
        lambda _: PROCESSED_KEPT_DAYS,
        retention.delete_processed_updates,
        keeps_rows=False,
    ),
    Purge(
        "purge_notification_buttons",
        lambda _: NOTIFICATION_BUTTONS_KEPT_DAYS,
        retention.delete_notification_buttons,
        keeps_rows=False,
    ),
)


@dataclass(slots=True)
class PurgeBatches:
    """One kind's purge in one round, called as a job once per batch until a batch comes back
    short (`complete`) or another process holds the scheduler's lock."""

    purge: Purge
    since: datetime | None
    batch: int
    before: datetime | None = None
    purged: int = 0
    entry_id: int | None = None
    finished: bool = False
    complete: bool = False

    async def __call__(self, turn: Turn) -> None:
        if not await officers.take_scheduler_lock(session=turn.session):
            self.finished = True
            return
        if self.before is None:
            self.before = turn.now - timedelta(days=self.purge.kept_days(turn.rules))
        count = await self.purge.query(self.since, self.before, self.batch, session=turn.session)
        if count:
            self.purged += count
            self.entry_id = await retention.count_purge(
                self.purge.kind, self.purged, turn.now, self.entry_id, session=turn.session
            )
        self.complete = self.finished = count < self.batch


Job = Callable[[Turn], Awaitable[None]]


@dataclass(slots=True)
class Sweeper:
    """Runs the policy round after round, remembering per kind up to when the rows that stay
    were swept (a process starts by sweeping the whole past once)."""

    batch: int = BATCH
    swept: dict[str, datetime] = field(default_factory=dict)

    async def sweep(self, run_job: Callable[[Job], Awaitable[int]]) -> dict[str, int]:
        """Purge every kind in batches through `run_job` (one transaction each); returns how
        many rows of each kind were purged."""
        counts: dict[str, int] = {}
        for purge in POLICY:
            since = self.swept.get(purge.kind) if purge.keeps_rows else None
            batches = PurgeBatches(purge, since, self.batch)
            while not batches.finished:
                await run_job(batches)
            if batches.complete and batches.before is not None:
                self.swept[purge.kind] = batches.before
            counts[purge.kind] = batches.purged
        return counts
