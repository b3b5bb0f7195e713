"""Indicators checked against an independent computation in plain Python over seeded rows."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot import demo
from bot.runtime import Runtime, prepare_database
from handlers.admin.summary import build_summary
from handlers.indicators import FACTORS
from handlers.periods import Period, parse_period
from storage.models import Case, Rating, Report
from tests.conftest import Chat, Clock, make_settings
from tests.dialogue import number_of

World = tuple[Runtime, list[tuple[str, str]]]
VIETNAM = timedelta(hours=7)


@pytest.fixture
async def seeded(runtime: World, clock: Clock) -> Runtime:
    rt = runtime[0]
    await demo.seed(rt.sessions, ratings=3000, reports=80, seed_value=7, now=clock.now)
    return rt


def local_day(moment: datetime) -> date:
    return (moment.astimezone(UTC) + VIETNAM).date()


def expected(ratings: list[Rating]) -> dict[str, float | None]:
    """The indicators, computed the slow obvious way."""

    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    figures: dict[str, float | None] = {}
    for factor in FACTORS:
        marks = [getattr(r, f"score_{factor}") for r in ratings]
        marks = [m for m in marks if m is not None]
        figures[factor] = share(sum(m >= 4 for m in marks), len(marks))
    known = [v for v in figures.values() if v is not None]
    figures["overall"] = sum(known) / len(known) if known else None
    timely = [r for r in ratings if r.timeliness != "not_yet"]
    figures["on_time"] = share(
        sum(r.timeliness in ("early", "on_time") for r in timely), len(timely)
    )
    late = [r for r in ratings if r.timeliness == "late"]
    figures["apology"] = share(sum(r.apology == "yes" for r in late), len(late))
    figures["papers"] = share(sum(r.extra_papers == "yes" for r in ratings), len(ratings))
    figures["trips"] = share(sum(r.trips >= 3 for r in ratings), len(ratings))
    figures["remote"] = share(sum(r.submission != "in_person" for r in ratings), len(ratings))
    figures["payment"] = share(sum(r.unofficial_payment == "yes" for r in ratings), len(ratings))
    return figures


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


PERIODS = [
    Period(date(2026, 1, 1), date(2026, 12, 31)),
    Period(date(2026, 3, 1), date(2026, 3, 31)),
    Period(date(2026, 7, 1), date(2026, 9, 30)),
    Period(date(2025, 11, 29), date(2026, 11, 30)),
    Period(date(2024, 1, 1), date(2024, 1, 31)),
]


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.label())
async def test_indicators_match_a_computation_in_python(
    seeded: Runtime, clock: Clock, period: Period
) -> None:
    async with seeded.sessions() as session:
        rows = (await session.scalars(select(Rating))).all()
        summary = await build_summary(
            session, period, None, now=clock.now, min_sample=60, locale="vi"
        )
    inside = [r for r in rows if period.start <= local_day(r.created_at) <= period.end]
    overall = expected(inside)
    o = summary.overall
    assert o.ratings == len(inside)
    for factor in FACTORS:
        assert close(o.satisfaction[factor], overall[factor]), factor
    for name, value in [
        ("overall", o.overall),
        ("on_time", o.on_time),
        ("apology", o.apology_when_late),
        ("papers", o.extra_papers),
        ("trips", o.three_trips),
        ("remote", o.remote),
        ("payment", o.unofficial_payment),
    ]:
        assert close(value, overall[name]), name

    by_agency: dict[int, list[Rating]] = defaultdict(list)
    for rating in inside:
        by_agency[rating.agency_id].append(rating)
    assert {r.key for r in summary.agencies} == set(by_agency)
    for row in summary.agencies:
        mine = expected(by_agency[row.key])
        assert close(row.indicators.overall, mine["overall"])
        assert row.indicators.ratings == len(by_agency[row.key])
        assert (row.rank is None) == (len(by_agency[row.key]) < 60), "small samples unranked"
    ranked = [r for r in summary.agencies if r.rank is not None]
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
    scores = [r.indicators.overall or 0 for r in ranked]
    assert scores == sorted(scores, reverse=True)

    before = period.previous()
    earlier = [r for r in rows if before.start <= local_day(r.created_at) <= before.end]
    assert close(summary.previous.overall, expected(earlier)["overall"])


async def test_an_empty_period_has_no_figures(seeded: Runtime, clock: Clock) -> None:
    async with seeded.sessions() as session:
        summary = await build_summary(
            session, PERIODS[-1], None, now=clock.now, min_sample=30, locale="vi"
        )
    assert summary.overall.ratings == 0 and summary.overall.overall is None
    assert summary.agencies == [] and summary.reports == {} and summary.cases.cases == 0


async def test_reports_and_cases_match_a_computation_in_python(
    seeded: Runtime, clock: Clock
) -> None:
    period = PERIODS[3]
    start, end = period.bounds()
    async with seeded.sessions() as session:
        reports = (await session.scalars(select(Report))).all()
        cases = (await session.scalars(select(Case))).all()
        summary = await build_summary(
            session, period, None, now=clock.now, min_sample=30, locale="vi"
        )
    inside = [r for r in reports if start <= r.created_at < end]
    assert summary.reports == dict(Counter(r.category for r in inside))
    opened = [c for c in cases if start <= c.created_at < end]
    still_open = [c for c in opened if c.state not in ("decided", "closed")]
    assert summary.cases.cases == len(opened)
    assert summary.cases.open == len(still_open)
    spans = [
        (case.decided_at - case.created_at).total_seconds() / 86400
        for case in opened
        if case.decided_at is not None
    ]
    assert summary.cases.median_days_to_decide == pytest.approx(statistics.median(spans))
    to_acknowledge = [
        (case.acknowledged_at - case.created_at).total_seconds() / 86400
        for case in opened
        if case.acknowledged_at is not None
    ]
    assert summary.cases.median_days_to_acknowledge == pytest.approx(
        statistics.median(to_acknowledge)
    )
    late = [
        c
        for c in still_open
        if (c.acknowledged_at is None and c.ack_due < clock.now)
        or (c.decided_at is None and c.decide_due < clock.now)
    ]
    assert late, "the seeded data has overdue cases, so the comparison means something"
    assert summary.cases.overdue == len(late)


async def test_a_single_agency_sees_only_its_own_figures(seeded: Runtime, clock: Clock) -> None:
    async with seeded.sessions() as session:
        rows = (await session.scalars(select(Rating))).all()
        agency_id = rows[0].agency_id
        summary = await build_summary(
            session, PERIODS[3], [agency_id], now=clock.now, min_sample=30, locale="vi"
        )
    assert [r.key for r in summary.agencies] == [agency_id]
    assert summary.overall.ratings == sum(
        r.agency_id == agency_id and PERIODS[3].start <= local_day(r.created_at) <= PERIODS[3].end
        for r in rows
    )


@given(st.text(max_size=40))
def test_period_parser_never_raises(text: str) -> None:
    period = parse_period(text, date(2026, 11, 30))
    if period is not None:
        assert period.start <= period.end
        before = period.previous()
        assert before.days == period.days and before.end == period.start - timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("", date(2026, 11, 1), date(2026, 11, 30)),
        ("quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("năm", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2025-12-15..2026-01-14", date(2025, 12, 15), date(2026, 1, 14)),
    ],
)
def test_period_examples(text: str, start: date, end: date) -> None:
    assert parse_period(text, date(2026, 11, 30)) == Period(start, end)


def test_nonsense_periods_are_refused() -> None:
    for text in ("2026-13", "2026-Q5", "yesterday", "2026-02-30..2026-03-01"):
        assert parse_period(text, date(2026, 11, 30)) is None


async def test_demo_data_is_repeatable(tmp_path: Path, clock: Clock) -> None:
    figures = []
    for name in ("one", "two"):
        settings = make_settings(tmp_path / name)
        (tmp_path / name).mkdir()
        db, sessions = await prepare_database(settings)
        try:
            await demo.seed(sessions, ratings=500, reports=10, seed_value=11, now=clock.now)
            async with sessions() as session:
                summary = await build_summary(
                    session, PERIODS[3], None, now=clock.now, min_sample=5, locale="vi"
                )
                receipts = sorted((await session.scalars(select(Report.receipt))).all())
        finally:
            await db.dispose()
        figures.append((summary.overall, [(r.key, r.rank) for r in summary.agencies], receipts))
    assert figures[0] == figures[1]


async def test_live_roll_ups_equal_a_rebuild(consented: Chat, clock: Clock) -> None:
    """Ratings typed one by one update the day's roll-up exactly as a rebuild computes it."""
    from storage import rollups
    from storage.models import RatingDaily
    from tests.test_rating_dialogue import answer_rest, open_rating

    for hours in (0, 0, 16):  # the third lands on the next day in Vietnam
        clock.advance(hours=hours)
        await open_rating(consented)
        out = await answer_rest(consented, timeliness="Trễ hẹn")
        out = await consented.say(number_of(out, "Không có góp ý"))
        out = await consented.say(number_of(out, "Gửi đánh giá"))
        await consented.say(number_of(out, "Không, cảm ơn"))

    def snapshot(rows: list[RatingDaily]) -> list[tuple[object, ...]]:
        return sorted(
            tuple(getattr(r, c) for c in rollups.KEYS + tuple(rollups.SUMMED)) for r in rows
        )

    live = snapshot(await consented.rows(RatingDaily))
    async with consented.runtime.sessions() as session, session.begin():
        await rollups.rebuild(session=session)
    assert snapshot(await consented.rows(RatingDaily)) == live
    assert [row[3] for row in live] == [2, 1]  # ratings per day
