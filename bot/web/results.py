"""The public results page, `/`: no login, Vietnamese by default (`?lang=en` for English).

What it shows for a reporting period (`?period=2026-10`, the latest ended month by default):
the headline index and each sector's apart with their samples, the five SIPAS factors, every
agency's index ranked within its group (`?group=` filters by the groups the directory file
declares), and how each agency handled reports about officials, in counts, small counts
withheld. The figures are those of /summary (`handlers.public_results`), read and added up off
the event loop (`reading`) and kept `cache_seconds`, so visitors never hold up the bot's
turns. A parameter the page cannot use gets the page with a polite notice, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import Settings
from bot.web.cache import FiguresCache
from bot.web.pages import html_response, page_html, texts_for, with_query
from bot.web.reading import read_off_the_loop
from handlers.admin.summary import percent, scope_label
from handlers.agency_groups import OTHER
from handlers.clock import LOCAL_ZONE, Clock, local_day
from handlers.indicators import FACTORS, Indicators, Ranked
from handlers.periods import Period, latest_complete, parse_period, recent_periods
from handlers.public_results import Handling, PublicResults, public_results, shown
from handlers.texts import Texts

LONGEST_PARAMETER = 40
"""A query parameter longer than any period or group code is not read at all."""


@dataclass(frozen=True, slots=True)
class ResultsSettings:
    min_sample: int
    min_cell: int
    cutoff: int | None
    cache_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> ResultsSettings:
        return cls(
            settings.min_sample,
            settings.web_min_cell,
            settings.reporting_cutoff_day,
            settings.web_cache_seconds,
        )


@dataclass(frozen=True, slots=True)
class Computed:
    results: PublicResults
    scope: str
    at: datetime


def period_name(t: Texts, period: Period) -> str:
    """The name of a period ("Tháng 11/2026", "Quý 3/2026"…), or its dates if it is a range."""
    span = period.span
    if span is None:
        return period.label()
    if span.months == 1:
        return t("web.period_month", month=span.month, year=span.year)
    if span.months == 3:
        return t("web.period_quarter", number=(span.month + 2) // 3, year=span.year)
    if span.months == 6:
        return t(f"web.period_half_{(span.month + 5) // 6}", year=span.year)
    return t("web.period_year", year=span.year)


def period_code(period: Period) -> str:
    return period.span.code if period.span else f"{period.start}..{period.end}"


def chosen_period(text: str | None, today: datetime, cutoff: int | None) -> tuple[Period, bool]:
    """The period a `period` parameter names, and whether it had to be replaced by the
    latest ended month (absent is no fault; unreadable, too long or NUL-laden is)."""
    default = latest_complete(local_day(today), cutoff)
    if not text:
        return default, False
    if len(text) > LONGEST_PARAMETER:
        return default, True
    period = parse_period(text, local_day(today), cutoff)
    return (default, True) if period is None else (period, False)


def period_choices(
    t: Texts, request: Request, period: Period, today: datetime, cutoff: int | None
) -> list[dict[str, object]]:
    """The ended reporting periods offered, each with its link (keeping the other choices)."""
    return [
        {
            "code": period_code(p),
            "label": t(
                "web.period_option",
                name=period_name(t, p),
                start=f"{p.start:%d/%m/%Y}",
                end=f"{p.end:%d/%m/%Y}",
            ),
            "link": with_query(request.url, period=period_code(p)),
            "current": p == period,
        }
        for p in recent_periods(local_day(today), cutoff)
    ]


def _share(t: Texts, share: float | None) -> dict[str, object]:
    """A share as the page writes it and as its bar draws it (a percentage)."""
    return {
        "text": percent(share, t.locale),
        "value": None if share is None else round(share * 100, 1),
    }


def _index(t: Texts, indicators: Indicators) -> dict[str, object]:
    return _share(t, indicators.overall)


def _ranking_row(t: Texts, row: Ranked, computed: Computed) -> dict[str, object]:
    summary = computed.results.summary
    name = summary.names.get(row.key, "?")
    if row.key in summary.retired:
        name = t("web.retired_name", name=name)
    i = row.indicators
    return {
        "rank": str(row.rank) if row.rank else t("web.small_sample"),
        "ranked": row.rank is not None,
        "name": name,
        "ratings": i.ratings,
        "index": _index(t, i),
        "factors": [percent(i.satisfaction[f], t.locale) for f in FACTORS],
    }


def _handling_row(t: Texts, row: Handling, min_cell: int) -> dict[str, object]:
    def cell(count: int) -> str:
        value = shown(count, min_cell)
        return t("web.fewer_than", minimum=min_cell) if value is None else str(value)

    return {
        "name": row.name,
        "received": cell(row.received),
        "on_time": cell(row.answered_on_time),
        "overdue": cell(row.overdue),
    }


def page_context(
    request: Request,
    t: Texts,
    computed: Computed,
    period: Period,
    group: str | None,
    notices: list[str],
    config: ResultsSettings,
    today: datetime,
) -> dict[str, object]:
    """Everything the template shows, already worded and formatted."""
    summary = computed.results.summary
    ranking = summary.ranking
    groups = [g for g in ranking.order if g in ranking.labels or ranking.groups.get(g)]
    wanted = [group] if group else [g for g in groups if ranking.groups.get(g)]
    overall = summary.overall
    return {
        "t": t,
        "lang": t.locale,
        "other_language": with_query(request.url, lang="vi" if t.locale == "en" else "en"),
        "other_lang": "vi" if t.locale == "en" else "en",
        "notices": notices,
        "scope": computed.scope,
        "period": {
            "name": period_name(t, period),
            "start": f"{period.start:%d/%m/%Y}",
            "end": f"{period.end:%d/%m/%Y}",
            "code": period_code(period),
        },
        "periods": period_choices(t, request, period, today, config.cutoff),
        "groups": [{"code": g, "label": ranking.label(t, g)} for g in groups],
        "group": group or "",
        "headline": {**_index(t, overall), "ratings": overall.ratings},
        "sectors": [
            {"name": t(f"web.sector_{name}"), "count": found.ratings, **_index(t, found)}
            for name, found in summary.sectors.items()
        ],
        "factors": [
            {
                "name": t(f"rating.short_{f}"),
                **_share(t, overall.satisfaction[f]),
                "count": overall.samples[f],
            }
            for f in FACTORS
        ],
        "factor_names": [t(f"rating.short_{f}") for f in FACTORS],
        "rankings": [
            {
                "code": g,
                "label": ranking.label(t, g),
                "rows": [_ranking_row(t, row, computed) for row in ranking.groups.get(g, [])],
            }
            for g in wanted
        ],
        "min_sample": config.min_sample,
        "min_cell": config.min_cell,
        "handling": [
            _handling_row(t, row, config.min_cell)
            for row in computed.results.handling
            if group is None or row.group == group
        ],
        "computed_at": f"{computed.at.astimezone(LOCAL_ZONE):%H:%M %d/%m/%Y}",
    }


def results_routes(database_url: str, config: ResultsSettings, clock: Clock) -> list[Route]:
    """The public page, computing its figures off the event loop, at most once per
    `cache_seconds` per period and language."""
    figures: FiguresCache[Computed] = FiguresCache(config.cache_seconds)
    pages: FiguresCache[str] = FiguresCache(config.cache_seconds, size=256)

    async def compute(period: Period, locale: str) -> Computed:
        now = clock()

        async def read(session: AsyncSession) -> Computed:
            results = await public_results(
                session, period, now=now, min_sample=config.min_sample, locale=locale
            )
            scope = await scope_label(Texts(locale), None, locale, session=session)
            return Computed(results, scope, now)

        return await read_off_the_loop(database_url, read)

    async def html(request: Request) -> str:
        params = request.query_params
        t = texts_for(params.get("lang"))
        today = clock()
        period, unreadable = chosen_period(params.get("period"), today, config.cutoff)
        notices = [t("web.notice_period")] if unreadable else []
        computed = await figures.get(
            (period.start, period.end, t.locale), lambda: compute(period, t.locale)
        )
        group = params.get("group") or None
        ranking = computed.results.summary.ranking
        if group is not None and group not in ranking.labels and group != OTHER:
            notices.append(t("web.notice_group"))
            group = None
        return await page_html(
            "results.html",
            lambda: page_context(request, t, computed, period, group, notices, config, today),
        )

    async def page(request: Request) -> Response:
        """Visitors of the same address within `cache_seconds` get the same finished page:
        wording a year's figures takes ~20 ms of CPU, which many visitors would otherwise
        spend again and again beside the bot's turns."""
        return html_response(await pages.get(request.url.query, lambda: html(request)))

    return [Route("/", page, methods=["GET"])]
