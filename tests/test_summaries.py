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
from handlers.admin.summary import build_summary, percent, summary_text
from handlers.agency_groups import OTHER
from handlers.indicators import FACTORS
from handlers.periods import Period, parse_period, period_from
from handlers.texts import Texts
from storage.models import Agency, Case, DirectoryHeader, Rating, Report, Service
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
    every_answer: list[int] = []
    for factor in FACTORS:
        marks = [getattr(r, f"score_{factor}") for r in ratings]
        marks = [m for m in marks if m is not None]
        figures[factor] = share(sum(m >= 4 for m in marks), len(marks))
        figures[f"{factor}_n"] = len(marks)
        every_answer += marks
    figures["overall"] = share(sum(m >= 4 for m in every_answer), len(every_answer))
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
    parse_period("2026-Q3", date(2026, 11, 30), 15),
    parse_period("2026", date(2026, 11, 30), 15),
    Period(date(2026, 1, 1), date(2026, 12, 31)),
    Period(date(2026, 3, 1), date(2026, 3, 31)),
    Period(date(2026, 7, 1), date(2026, 9, 30)),
    Period(date(2025, 11, 29), date(2026, 11, 30)),
    Period(date(2024, 1, 1), date(2024, 1, 31)),
]


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.label() if p else "?")
async def test_indicators_match_a_computation_in_python(
    seeded: Runtime, clock: Clock, period: Period
) -> None:
    async with seeded.sessions() as session:
        rows_all = (await session.scalars(select(Rating))).all()
        agencies = (await session.scalars(select(Agency))).all()
        sector_of = dict((await session.execute(select(Service.id, Service.sector))).all())
        header = await session.get(DirectoryHeader, 1)
        summary = await build_summary(
            session, period, None, now=clock.now, min_sample=60, locale="vi"
        )
    every = [r for r in rows_all if period.start <= local_day(r.created_at) <= period.end]
    inside = [r for r in every if sector_of[r.service_id] == "administrative"]
    overall = expected(inside)
    o = summary.overall
    assert o.ratings == len(inside), "the headline counts administrative procedures alone"
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

    for factor in FACTORS:
        assert o.samples[factor] == overall[f"{factor}_n"], factor

    declared = {g["code"] for g in header.groups} if header else set()
    group_of = {a.id: a.group if a.group in declared else OTHER for a in agencies}
    by_agency: dict[int, list[Rating]] = defaultdict(list)
    for rating in every:
        by_agency[rating.agency_id].append(rating)
    assert {r.key for r in summary.agencies} == set(by_agency)
    for group, rows in summary.ranking.groups.items():
        assert {group_of[r.key] for r in rows} == {group}, "the group the directory file names"
        for row in rows:
            mine = expected(by_agency[row.key])
            assert close(row.indicators.overall, mine["overall"])
            assert row.indicators.ratings == len(by_agency[row.key])
            assert (row.rank is None) == (len(by_agency[row.key]) < 60), "small samples unranked"
        ranked = [r for r in rows if r.rank is not None]
        assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1)), "ranked per group"
        scores = [r.indicators.overall or 0 for r in ranked]
        assert scores == sorted(scores, reverse=True)

    for name, other in (("previous", period.previous()), ("year", period.year_before())):
        earlier = [
            r
            for r in rows_all
            if other.start <= local_day(r.created_at) <= other.end
            and sector_of[r.service_id] == "administrative"
        ]
        figure = summary.previous if name == "previous" else summary.year_before
        assert close(figure.overall, expected(earlier)["overall"]), name


async def test_the_overall_index_is_administrative_procedures_alone_and_sectors_stand_apart(
    seeded: Runtime, clock: Clock
) -> None:
    period = PERIODS[5]
    async with seeded.sessions() as session:
        rows = (await session.scalars(select(Rating))).all()
        sector_of = dict((await session.execute(select(Service.id, Service.sector))).all())
        summary = await build_summary(
            session, period, None, now=clock.now, min_sample=30, locale="vi"
        )
    inside = [r for r in rows if period.start <= local_day(r.created_at) <= period.end]
    by_sector: dict[str, list[Rating]] = defaultdict(list)
    for rating in inside:
        by_sector[sector_of[rating.service_id]].append(rating)
    assert by_sector["health"] and by_sector["education"], "hospitals and schools were rated"
    procedures = expected(by_sector["administrative"])
    assert close(summary.overall.overall, procedures["overall"])
    assert summary.overall.ratings == len(by_sector["administrative"])
    assert not close(summary.overall.overall, expected(inside)["overall"]), "mixing differs"
    text = summary_text(Texts("vi"), summary, "Toàn tỉnh", 30)
    for sector, word in (("health", "y tế"), ("education", "giáo dục")):
        apart = expected(by_sector[sector])["overall"]
        assert close(summary.sectors[sector].overall, apart), sector
        assert summary.sectors[sector].ratings == len(by_sector[sector])
        assert f"{word} {percent(apart, 'vi')} ({len(by_sector[sector])} lượt)" in text
    headline = "về thủ tục hành chính* (tỷ lệ hài lòng, rất hài lòng trên mọi câu trả lời"
    assert headline in text
    assert percent(procedures["overall"], "vi") in text.split(headline)[1].splitlines()[0]


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
    period = PERIODS[5]
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

    ack_due = [c for c in opened if c.acknowledged_at is not None or c.ack_due <= clock.now]
    acked = [c for c in ack_due if c.acknowledged_at and c.acknowledged_at <= c.ack_due]
    answered = {c.id: c.decided_at or c.closed_at for c in opened}
    answer_due = [c for c in opened if answered[c.id] is not None or c.decide_due <= clock.now]
    in_time = [c for c in answer_due if answered[c.id] and answered[c.id] <= c.decide_due]
    figures = summary.on_time
    assert (figures.ack_due, figures.ack_on_time) == (len(ack_due), len(acked))
    assert (figures.answer_due, figures.answer_on_time) == (len(answer_due), len(in_time))
    assert 0 < len(acked) < len(ack_due) and 0 < len(in_time) < len(answer_due), "both kinds"
    text = summary_text(Texts("vi"), summary, "Toàn tỉnh", 30)
    rate = 100 * len(in_time) / len(answer_due)
    assert f"trả lời đúng hạn: {f'{rate:.1f}'.replace('.', ',')}%" in text


async def test_a_single_agency_sees_only_its_own_figures(seeded: Runtime, clock: Clock) -> None:
    async with seeded.sessions() as session:
        rows = (await session.scalars(select(Rating))).all()
        agency_id = rows[0].agency_id
        summary = await build_summary(
            session, PERIODS[5], [agency_id], now=clock.now, min_sample=30, locale="vi"
        )
    assert [r.key for r in summary.agencies] == [agency_id]
    assert summary.ratings == sum(
        r.agency_id == agency_id and PERIODS[5].start <= local_day(r.created_at) <= PERIODS[5].end
        for r in rows
    )


@given(st.text(max_size=40), st.sampled_from([None, 15, 20]))
def test_period_parser_never_raises(text: str, cutoff: int | None) -> None:
    period = parse_period(text, date(2026, 11, 30), cutoff)
    if period is not None:
        assert period.start <= period.end
        before = period.previous()
        assert before.end == period.start - timedelta(days=1), "periods follow one another"
        if period.span is None:
            assert before.days == period.days
        ago = period.year_before()
        assert ago.start.year == period.start.year - 1 and ago.end.year == period.end.year - 1


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-Q3", date(2026, 6, 15), date(2026, 9, 14)),
        ("2026-Q1", date(2025, 12, 15), date(2026, 3, 14)),
        ("2026-11", date(2026, 10, 15), date(2026, 11, 14)),
        ("2026-H1", date(2025, 12, 15), date(2026, 6, 14)),
        ("2026-H2", date(2026, 6, 15), date(2026, 12, 14)),
        ("2026", date(2025, 12, 15), date(2026, 12, 14)),
        ("", date(2026, 11, 15), date(2026, 12, 14)),
        ("quý", date(2026, 9, 15), date(2026, 12, 14)),
        ("năm", date(2025, 12, 15), date(2026, 12, 14)),
        ("2025-12-15..2026-01-14", date(2025, 12, 15), date(2026, 1, 14)),
    ],
)
def test_decree_09_reporting_periods(text: str, start: date, end: date) -> None:
    """Decree 09/2019/NĐ-CP: from the 15th of the month before to the 14th of the last month;
    on 30 November the current reporting month is December's."""
    assert parse_period(text, date(2026, 11, 30), 15) == Period(start, end)


def test_a_reporting_period_compares_with_its_predecessor_and_the_year_before() -> None:
    quarter = parse_period("2026-Q3", date(2026, 11, 30), 15)
    assert quarter is not None
    assert quarter.previous() == Period(date(2026, 3, 15), date(2026, 6, 14))
    assert quarter.year_before() == Period(date(2025, 6, 15), date(2025, 9, 14))
    calendar = parse_period("2026-Q3", date(2026, 11, 30))
    assert calendar is not None
    assert calendar.previous() == Period(date(2026, 4, 1), date(2026, 6, 30))
    assert calendar.year_before() == Period(date(2025, 7, 1), date(2025, 9, 30))


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
                    session, PERIODS[5], None, now=clock.now, min_sample=5, locale="vi"
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


@pytest.mark.parametrize("text", ["2026-11", "2026-Q3", "2026-H1", "2026", "month"])
@pytest.mark.parametrize("cutoff", [15, None])
def test_a_period_read_back_from_its_days_compares_with_the_same_periods(
    text: str, cutoff: int | None
) -> None:
    """/summary's text is made after the turn from the period's days alone."""
    period = parse_period(text, date(2026, 11, 30), cutoff)
    assert period is not None
    again = period_from(period.start, period.end, 15)
    assert again == period
    assert again.previous() == period.previous()
    assert again.year_before() == period.year_before()
