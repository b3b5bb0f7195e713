"""Synthetic data over the sample directory, for trying the summaries and for the benchmarks.

Seeded, so the same arguments on the same day give the same data on SQLite and PostgreSQL
alike (every row the generator draws from is read in a fixed order). Agencies get a "quality"
of their own, so rankings, strengths and weaknesses show real differences. Rows go in with bulk
inserts, then the daily roll-ups are rebuilt in one SQL statement.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.casework.escalation import FLAGGED_CATEGORIES
from handlers.casework.states import State
from handlers.citizen.receipts import ALPHABET
from handlers.citizen.report import CATEGORIES
from handlers.clock import local_day
from handlers.officer.decide import OUTCOMES
from handlers.workdays import WorkCalendar
from storage import cases, demo, rollups
from storage.identity import keys_of
from storage.models import Agency, Case, CaseEvent, Report

_CHUNK = 10_000
_COMMENTS = [
    "Cán bộ hướng dẫn tận tình.",
    "Phải chờ lâu, nơi ngồi chờ chật.",
    "Nên niêm yết thủ tục rõ ràng hơn.",
    "=Cần cải thiện thái độ phục vụ",
    "Trả kết quả đúng hẹn, rất hài lòng.",
]
_FACTOR_OFFSETS = {
    "access": 0.1,
    "procedure": -0.1,
    "conduct": 0.0,
    "result": 0.15,
    "feedback": -0.3,
}


def _office_hours(rng: random.Random, start: datetime) -> datetime:
    """A moment in the year after `start`, on working hours in Vietnam (07:30–17:00)."""
    day = start + timedelta(days=rng.randrange(365))
    return day.replace(hour=0, minute=30, second=0, microsecond=0) + timedelta(
        seconds=rng.uniform(0, 9.5 * 3600)
    )


def _score(rng: random.Random, quality: float, offset: float) -> int:
    return max(1, min(5, round(rng.gauss(quality + offset, 0.9))))


def _rating_row(
    rng: random.Random,
    citizen_id: int,
    agency: Agency,
    service_id: int,
    quality: float,
    at: datetime,
) -> dict[str, Any]:
    timeliness = rng.choices(
        ["early", "on_time", "late", "not_yet"],
        weights=[15, 50 + 10 * quality, 25 - 4 * quality, 5],
    )[0]
    return {
        "citizen_id": citizen_id,
        "agency_id": agency.id,
        "service_id": service_id,
        "channel": "demo",
        **{
            f"score_{f}": _score(rng, quality, o)
            for f, o in _FACTOR_OFFSETS.items()
            if f != "feedback"
        },
        "score_feedback": None if rng.random() < 0.3 else _score(rng, quality, -0.3),
        "timeliness": timeliness,
        "apology": (rng.choice(["yes", "no", "unsure"]) if timeliness == "late" else None),
        "extra_papers": rng.choices(["yes", "no", "unsure"], weights=[6 - quality, 90, 4])[0],
        "trips": rng.choices([0, 1, 2, 3], weights=[10, 55, 25, 10])[0],
        "submission": rng.choices(
            ["in_person", "online_full", "online_part", "postal"], weights=[70, 12, 10, 8]
        )[0],
        "unofficial_payment": rng.choices(
            ["yes", "no", "no_answer"], weights=[max(0.5, 4 - quality), 93, 4]
        )[0],
        "comment": rng.choice(_COMMENTS) if rng.random() < 0.1 else None,
        "created_at": at,
    }


async def seed(
    sessions: async_sessionmaker[AsyncSession],
    *,
    ratings: int,
    reports: int,
    seed_value: int,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Add `ratings` ratings and `reports` reports spread over the year before `now`."""
    rng = random.Random(seed_value)
    async with sessions() as session, session.begin():
        agency_rows, services = await demo.directory(session=session)
        offered = {
            a.id: [s.id for s in services if a.kind in s.offered_by or a.code in s.offered_by]
            for a in agency_rows
            if a.kind != "province"
        }
        places = {a.id: a for a in agency_rows}
        rateable = [places[a] for a, ids in offered.items() if ids]
        quality = {a.id: rng.uniform(2.6, 4.5) for a in rateable}
        citizen_ids = await _citizens(
            session, max(10, min(50_000, ratings // 5 + reports)), seed_value, now
        )
        start = now - timedelta(days=365)
        batch: list[dict[str, Any]] = []
        for _ in range(ratings):
            agency = rng.choice(rateable)
            at = _office_hours(rng, start)
            batch.append(
                _rating_row(
                    rng,
                    rng.choice(citizen_ids),
                    agency,
                    rng.choice(offered[agency.id]),
                    quality[agency.id],
                    at,
                )
            )
            if len(batch) == _CHUNK:
                await demo.add_ratings(batch, session=session)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            await demo.add_ratings(batch, session=session)
            if progress:
                progress(len(batch))
        await _reports(session, rng, reports, citizen_ids, start, now)
        await rollups.rebuild(session=session)


async def _citizens(
    session: AsyncSession, count: int, seed_value: int, now: datetime
) -> list[int]:
    keys = keys_of(session)
    rows = [
        {
            "channel": "demo",
            "account_ref": keys.ref("demo", f"{seed_value}-{n}"),
            "address": keys.seal(f"{seed_value}-{n}"),
            "locale": "vi",
            "consent_version": "demo",
            "consented_at": now,
            "created_at": now,
        }
        for n in range(count)
    ]
    return await demo.add_citizens(rows, "demo", session=session)


async def _reports(
    session: AsyncSession,
    rng: random.Random,
    count: int,
    citizen_ids: list[int],
    start: datetime,
    now: datetime,
) -> None:
    officials = await demo.staff_officials(session=session)
    for _ in range(count):
        official = rng.choice(officials)
        at = _office_hours(rng, start)
        category = rng.choice(CATEGORIES)
        # Demo receipts come from the seeded generator, so the same seed gives the same data;
        # real ones use the OS's secure generator (handlers/citizen/receipts.py).
        receipt = "-".join("".join(rng.choice(ALPHABET) for _ in range(4)) for _ in range(3))
        report = Report(
            receipt=receipt,
            handle=keys_of(session).handle(receipt),
            citizen_id=rng.choice(citizen_ids),
            category=category,
            agency_id=official.agency_id,
            official_id=official.id,
            occurred_on=local_day(at),
            description="Dữ liệu mẫu.",
            anonymous=rng.random() < 0.8,
            channel="demo",
            created_at=at,
        )
        await cases.add(report, session=session)
        state = rng.choice([State.NEW, State.ACKNOWLEDGED, State.DECIDED, State.CLOSED])
        done = at + timedelta(days=rng.uniform(0.2, 12))
        case = Case(
            report_id=report.id or 0,
            agency_id=official.agency_id,
            state=state,
            flagged=category in FLAGGED_CATEGORIES,
            flag_reason=category if category in FLAGGED_CATEGORIES else None,
            ack_due=WorkCalendar().add_working_days(at, 2),
            decide_due=WorkCalendar().add_working_days(at, 10),
            acknowledged_at=None if state == State.NEW else at + timedelta(days=1),
            decided_at=done if state in (State.DECIDED, State.CLOSED) else None,
            closed_at=done if state == State.CLOSED else None,
            outcome=rng.choice(OUTCOMES) if state in (State.DECIDED, State.CLOSED) else None,
            created_at=at,
            updated_at=min(done, now),
        )
        await cases.add(case, session=session)
        steps = [("citizen", "open", None, State.NEW, at)]
        if case.acknowledged_at is not None:
            steps.append(
                ("officer", "acknowledge", State.NEW, State.ACKNOWLEDGED, case.acknowledged_at)
            )
        if case.decided_at is not None:
            steps.append(("officer", "decide", State.ACKNOWLEDGED, State.DECIDED, done))
        if case.closed_at is not None:
            steps.append(("citizen", "confirm", State.DECIDED, State.CLOSED, done))
        for actor, action, before, after, moment in steps:
            session.add(
                CaseEvent(
                    case_id=case.id or 0,
                    at=moment,
                    actor=actor,
                    action=action,
                    from_state=before,
                    to_state=after,
                )
            )
