"""The public results page in a real browser: what a citizen reading it sees, clicks and gets."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import Select, WebDriverWait

from bot.config import Settings
from bot.runtime import Runtime
from handlers.admin.summary import percent
from handlers.clock import local_day
from handlers.periods import recent_periods
from handlers.texts import Texts
from tests.browser import browse, chromium
from tests.casework import officer
from tests.conftest import Clock, make_settings
from tests.fakes.serving import serve
from tests.web import RESULTS, default_period, reporter_traces, seed, site_app, summary_of

World = tuple[Runtime, list[tuple[str, str]]]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Links the bot sends name this address; the test opens their path on the served one."""
    return make_settings(tmp_path, database_url=database_url, public_base_url="http://bot.test")


@pytest.fixture
async def site(
    runtime: World, settings: Settings, clock: Clock
) -> AsyncIterator[tuple[Runtime, str]]:
    rt = runtime[0]
    await seed(rt, clock.now)
    async with serve(site_app(rt, settings, clock)) as url:
        yield rt, url


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


async def arrived(browser: WebDriver, part: str) -> None:
    """Wait until the browser shows the page whose address holds `part`."""
    await browse(lambda: WebDriverWait(browser, 30).until(expected.url_contains(part)))
    await browse(lambda: browser.find_element(By.ID, "headline-index"))


def text_of(browser: WebDriver, selector: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, selector).text


def table(browser: WebDriver, selector: str) -> list[list[str]]:
    """A table's body as a reader sees it: each row's header and cells."""
    rows = browser.find_elements(By.CSS_SELECTOR, f"{selector} tbody tr")
    return [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")] for row in rows]


async def test_a_citizen_reads_filters_switches_language_and_follows_a_period(
    site: tuple[Runtime, str], browser: WebDriver, clock: Clock
) -> None:
    rt, url = site
    period = default_period(clock.now)
    summary = await summary_of(rt, period, clock.now, "vi")
    vi = Texts("vi")

    await browse(lambda: browser.get(url + "/"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    assert await browse(lambda: text_of(browser, "#headline-index")) == percent(
        summary.overall.overall, "vi"
    )
    sectors = await browse(lambda: table(browser, "#sectors"))
    assert sectors == [
        [vi(f"web.sector_{name}"), percent(found.overall, "vi"), str(found.ratings)]
        for name, found in summary.sectors.items()
    ]

    # Only the chosen group's agencies, ranked.
    group = next(g for g in summary.ranking.labels if len(summary.ranking.groups.get(g, [])) > 1)

    def choose_group() -> None:
        Select(browser.find_element(By.ID, "group")).select_by_value(group)
        browser.find_element(By.ID, "show").click()

    await browse(choose_group)
    await arrived(browser, f"group={group}")
    tables = browser.find_elements(By.CSS_SELECTOR, "table.ranking")
    assert [t.get_attribute("id") for t in tables] == [f"ranking-{group}"]
    listed = await browse(lambda: table(browser, f"#ranking-{group}"))
    ranked = summary.ranking.groups[group]
    assert [row[1] for row in listed] == [summary.names[r.key] for r in ranked]
    assert [row[0] for row in listed] == [
        str(r.rank) if r.rank else vi("web.small_sample") for r in ranked
    ]

    # English, keeping the group.
    await browse(lambda: browser.find_element(By.ID, "language").click())
    await arrived(browser, "lang=en")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert f"group={group}" in browser.current_url
    english = await summary_of(rt, period, clock.now, "en")
    assert await browse(lambda: text_of(browser, "#headline-index")) == percent(
        english.overall.overall, "en"
    )
    assert Texts("en")("web.headline") in browser.page_source

    # An earlier period, by its link.
    quarter = next(
        a
        for a in browser.find_elements(By.CSS_SELECTOR, ".periods a")
        if "Q" in (a.get_attribute("href") or "")
    )
    code = re.search(r"period=([0-9]{4}-Q[1-4])", quarter.get_attribute("href") or "")
    assert code is not None
    await browse(quarter.click)
    await arrived(browser, f"period={code[1]}")
    chosen = await summary_of(
        rt,
        next(
            p
            for p in recent_periods(local_day(clock.now), RESULTS.cutoff)
            if p.span and p.span.code == code[1]
        ),
        clock.now,
        "en",
    )
    assert await browse(lambda: text_of(browser, "#headline-index")) == percent(
        chosen.overall.overall, "en"
    )
    assert f"{chosen.period.start:%d/%m/%Y}" in text_of(browser, "#period-shown")


async def test_small_counts_are_withheld_and_no_reporter_appears(
    site: tuple[Runtime, str], browser: WebDriver
) -> None:
    rt, url = site
    withheld = Texts("vi")("web.fewer_than", minimum=RESULTS.min_cell)
    await browse(lambda: browser.get(url + "/"))
    cells = [cell for row in await browse(lambda: table(browser, "#handling")) for cell in row[1:]]
    assert withheld in cells
    for cell in cells:
        assert cell == withheld or cell == "0" or int(cell) >= RESULTS.min_cell
    assert text_of(browser, "#handling-note") == Texts("vi")(
        "web.handling_note", largest=RESULTS.min_cell - 1, minimum=RESULTS.min_cell
    )
    page = browser.page_source
    assert not [trace for trace in await reporter_traces(rt) if trace in page]


async def test_an_admin_signs_in_with_the_bots_link_filters_and_downloads_a_csv(
    runtime: World, settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    rt = runtime[0]
    await seed(rt, clock.now)
    admin = await officer(*runtime, "intake", "62-SNV", "admin")
    reply = await admin.say("/dashboard")
    link = re.search(r"/dashboard/login\?token=\S+", reply)
    assert link, reply
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    summary = await summary_of(rt, default_period(clock.now), clock.now, "vi")
    group = next(g for g in summary.ranking.labels if summary.ranking.groups.get(g))
    async with serve(site_app(rt, settings, clock)) as url:
        with chromium(downloads) as browser:
            await browse(lambda: browser.get(url + link[0]))
            await browse(lambda: browser.find_element(By.ID, "sign-in").click())
            await browse(
                lambda: WebDriverWait(browser, 30).until(expected.url_to_be(url + "/dashboard"))
            )
            assert browser.find_element(By.ID, "cases")
            assert browser.find_element(By.ID, "chart").get_attribute("naturalWidth") != "0"

            def choose_group() -> None:
                Select(browser.find_element(By.ID, "group")).select_by_value(group)
                browser.find_element(By.ID, "show").click()

            await browse(choose_group)
            await browse(
                lambda: WebDriverWait(browser, 30).until(expected.url_contains(f"group={group}"))
            )
            tables = browser.find_elements(By.CSS_SELECTOR, "table.ranking[id^='agencies-']")
            assert [t.get_attribute("id") for t in tables] == [f"agencies-{group}"]

            summary_link = browser.find_element(
                By.CSS_SELECTOR, "#exports a[href*='format=summary']"
            )
            await browse(summary_link.click)

            def downloaded() -> list[Path]:
                return [p for p in downloads.iterdir() if p.suffix == ".csv"]

            await browse(lambda: WebDriverWait(browser, 60).until(lambda _: downloaded()))
    content = downloaded()[0].read_bytes()
    assert content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    t = Texts("vi")
    assert rows[0][0] == t("export.col_sector")
    assert rows[0][1].startswith(t("export.col_agency_as_of_code", day="").strip())
    assert len(rows) > 1
