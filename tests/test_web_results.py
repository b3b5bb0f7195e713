"""The public results page over HTTP: the figures /summary computes, the group filter, small
counts withheld, parameters it cannot use answered politely, figures computed once per period
and language while they are fresh."""

from __future__ import annotations

import html
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.runtime import Runtime
from bot.web import ResultsSettings
from bot.web.results import chosen_period
from handlers.admin.summary import percent
from handlers.agency_groups import OTHER
from handlers.casework.states import WITH_THE_AGENCY
from handlers.periods import latest_complete, parse_period
from handlers.texts import Texts
from storage import summaries
from tests.conftest import Clock
from tests.web import (
    RESULTS,
    default_period,
    reporter_traces,
    seed,
    site_app,
    summary_of,
    words,
)

World = tuple[Runtime, list[tuple[str, str]]]


@pytest.fixture
async def seeded(runtime: World, clock: Clock) -> Runtime:
    await seed(runtime[0], clock.now)
    return runtime[0]


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Callable[..., httpx.AsyncClient]:
    """HTTP clients of the pages over a runtime, with the public page's settings given."""

    def make(rt: Runtime, config: ResultsSettings = RESULTS) -> httpx.AsyncClient:
        app = site_app(rt, settings, clock, config)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make


@pytest.fixture
async def web(
    seeded: Runtime, client: Callable[..., httpx.AsyncClient]
) -> AsyncIterator[httpx.AsyncClient]:
    async with client(seeded) as http:
        yield http


async def test_the_page_shows_the_summary_figures_in_vietnamese(
    web: httpx.AsyncClient, seeded: Runtime, clock: Clock
) -> None:
    page = await web.get("/")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text
    summary = await summary_of(seeded, default_period(clock.now), clock.now, "vi")
    text = words(html.unescape(page.text))
    assert summary.overall.ratings > 0
    assert f"{percent(summary.overall.overall, 'vi')} " in text
    for name, figures in summary.sectors.items():
        sector = Texts("vi")(f"web.sector_{name}")
        assert f"{sector} {percent(figures.overall, 'vi')} {figures.ratings} " in text
    assert Texts("vi")("web.caveat") in text


async def test_a_group_filter_lists_only_that_groups_agencies_ranked(
    web: httpx.AsyncClient, seeded: Runtime, clock: Clock
) -> None:
    summary = await summary_of(seeded, default_period(clock.now), clock.now, "en")
    group = next(g for g in summary.ranking.labels if summary.ranking.groups.get(g))
    page = await web.get("/", params={"group": group, "lang": "en"})
    assert page.status_code == 200
    assert 'id="ranking-' in page.text
    assert page.text.count('<table id="ranking-') == 1
    assert f'id="ranking-{group}"' in page.text
    text = html.unescape(page.text)
    for other, rows in summary.ranking.groups.items():
        for row in rows:
            name = summary.names[row.key]
            assert (name in text) == (other == group), name


async def test_small_counts_of_reports_are_withheld_and_the_page_says_so(
    seeded: Runtime, clock: Clock, client: Callable[..., httpx.AsyncClient]
) -> None:
    year = parse_period("2026", date(2026, 11, 30), RESULTS.cutoff)
    assert year is not None
    start, end = year.bounds()
    async with seeded.reads() as session:
        cases = await summaries.case_figures(
            start,
            end,
            clock.now,
            open_states=[s.value for s in WITH_THE_AGENCY],
            agency_ids=None,
            session=session,
        )
    counts = sorted(c.cases for c in cases.values() if c.cases)
    assert counts, "the seed made cases"
    # A minimum above every agency's count withholds every non-zero cell...
    strict = ResultsSettings(30, max(counts) + 1, 15, 60)
    async with client(seeded, strict) as http:
        page = await http.get("/", params={"period": "2026"})
    text = words(html.unescape(page.text))
    withheld = Texts("vi")("web.fewer_than", minimum=max(counts) + 1)
    table = text[text.index(Texts("vi")("web.col_received")) :]
    assert table.count(withheld) >= len(counts)
    assert Texts("vi")("web.handling_note", largest=max(counts), minimum=max(counts) + 1) in text
    # ...and the lowest minimum shows them all.
    open_page = ResultsSettings(30, 2, 15, 60)
    async with client(seeded, open_page) as http:
        page = await http.get("/", params={"period": "2026"})
    cells = words(html.unescape(page.text))
    assert all(f" {n} " in cells for n in counts if n >= 2)


async def test_no_reporter_data_reaches_the_page(web: httpx.AsyncClient, seeded: Runtime) -> None:
    traces = await reporter_traces(seeded)
    assert traces
    for params in ({}, {"period": "2026"}, {"lang": "en", "period": "2026-Q3"}):
        page = (await web.get("/", params=params)).text
        assert not [trace for trace in traces if trace in page]


@pytest.mark.parametrize(
    "params",
    [
        {"period": "zzz"},
        {"period": "2026-13"},
        {"period": "9" * 10_000},
        {"period": "2026-01-01..1999-01-01"},
        {"period": "\x00"},
        {"group": "nope"},
        {"group": "<script>alert(1)</script>"},
        {"group": "x" * 10_000},
        {"lang": "xx", "period": "-1", "group": "0"},
    ],
)
async def test_parameters_the_page_cannot_use_get_the_page_and_a_notice(
    web: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    page = await web.get("/", params=params)
    assert page.status_code == 200
    assert '<p class="notice" role="status">' in page.text
    assert "<script>" not in page.text
    assert '<html lang="vi">' in page.text


async def test_an_unknown_group_is_named_in_a_notice_and_all_groups_are_shown(
    web: httpx.AsyncClient,
) -> None:
    page = await web.get("/", params={"group": "nope", "lang": "en"})
    assert Texts("en")("web.notice_group") in html.unescape(page.text)
    assert page.text.count('<table id="ranking-') > 1


@given(st.text(max_size=60), st.sampled_from([None, 15]))
def test_any_period_text_gives_a_period_and_says_when_it_was_replaced(
    text: str, cutoff: int | None
) -> None:
    now = Clock().now
    period, replaced = chosen_period(text, now, cutoff)
    named = parse_period(text, date(2026, 11, 30), cutoff) if text else None
    if named is not None:
        assert (period, replaced) == (named, False)
    else:
        assert period == latest_complete(date(2026, 11, 30), cutoff)
        assert replaced == bool(text)


@pytest.fixture
def statements() -> Iterator[list[tuple[str, int]]]:
    """Every statement any engine runs during the test, with the thread that ran it."""
    ran: list[tuple[str, int]] = []

    def record(*args: Any) -> None:
        ran.append((args[2], threading.get_ident()))

    event.listen(Engine, "before_cursor_execute", record)
    yield ran
    event.remove(Engine, "before_cursor_execute", record)


async def test_the_figures_are_read_off_the_event_loop(
    seeded: Runtime,
    client: Callable[..., httpx.AsyncClient],
    statements: list[tuple[str, int]],
) -> None:
    async with client(seeded) as http:
        page = await http.get("/", params={"period": "2026"})
    assert page.status_code == 200
    # The runtime's own checkpoints (PRAGMA) go on beside; the page's queries are what count.
    queries = [(sql, thread) for sql, thread in statements if sql.lstrip().startswith("SELECT")]
    assert queries, "the page read its figures"
    loop = threading.get_ident()
    assert not [sql for sql, thread in queries if thread == loop]


async def test_a_periods_figures_are_computed_once_while_fresh(
    seeded: Runtime,
    client: Callable[..., httpx.AsyncClient],
    statements: list[tuple[str, int]],
) -> None:
    ran = statements
    async with client(seeded) as http:
        first = await http.get("/")
        computed = len(ran)
        assert computed > 0
        again = await http.get("/")
        filtered = await http.get("/", params={"group": OTHER})
        assert len(ran) == computed, "the same period and language come from the cache"
        assert again.text == first.text
        assert filtered.status_code == 200
        await http.get("/", params={"lang": "en"})
        assert len(ran) > computed, "another language names the agencies anew"


async def test_with_no_cache_every_visit_computes(
    seeded: Runtime,
    client: Callable[..., httpx.AsyncClient],
    statements: list[tuple[str, int]],
) -> None:
    ran = statements
    async with client(seeded, ResultsSettings(30, 5, 15, 0)) as http:
        await http.get("/")
        once = len(ran)
        await http.get("/")
    assert len(ran) >= 2 * once - 5, "the second visit reads the figures again"


async def test_the_stylesheet_is_served_and_nothing_is_loaded_from_elsewhere(
    web: httpx.AsyncClient,
) -> None:
    page = await web.get("/")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text
    css = await web.get("/static/style.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
