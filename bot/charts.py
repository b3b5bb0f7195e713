"""Charts for /summary: satisfaction by factor per agency (a heat map of the agencies the text
lists, in its order) and the monthly trend.

matplotlib runs in a worker thread (`asyncio.to_thread`) with the Agg backend, so the event loop
keeps answering other chats while a chart renders. DejaVu Sans, bundled with matplotlib, has
every Vietnamese diacritic.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.admin.summary import ranked_for, structure_day, summary_message
from handlers.flow import Rules
from handlers.indicators import FACTORS, HEADLINE_SECTOR, Indicators
from handlers.messages import OutgoingFile
from handlers.numbers import number_text
from handlers.periods import Period
from handlers.texts import Texts
from storage import summaries

DEFAULT_MIN_SAMPLE = Rules().min_sample


@dataclass(frozen=True, slots=True)
class ChartData:
    title: str
    factor_labels: list[str]
    agency_names: list[str]
    cells: list[list[float | None]]
    months: list[str]
    trend: list[float | None]
    trend_title: str
    empty: str
    locale: str = "vi"


def draw(data: ChartData) -> Figure:
    """Build the figure (no I/O, so tests can read its labels)."""
    rows = max(1, len(data.agency_names))
    figure = Figure(figsize=(12, 2.5 + 0.35 * rows), layout="constrained")
    heat, trend = figure.subplots(1, 2, width_ratios=(3, 2))
    figure.suptitle(data.title, fontsize=13)
    if data.agency_names:
        values = [[v * 100 if v is not None else float("nan") for v in row] for row in data.cells]
        image = heat.imshow(values, cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
        heat.set_xticks(
            range(len(data.factor_labels)), data.factor_labels, rotation=30, ha="right", fontsize=8
        )
        heat.set_yticks(range(len(data.agency_names)), data.agency_names, fontsize=8)
        for y, row in enumerate(data.cells):
            for x, value in enumerate(row):
                text = "–" if value is None else number_text(value * 100, data.locale, 0)
                heat.text(x, y, text, ha="center", va="center", fontsize=7)
        figure.colorbar(image, ax=heat, label="%", shrink=0.6)
    else:
        heat.text(0.5, 0.5, data.empty, ha="center", va="center")
        heat.set_axis_off()
    points = [(m, v * 100) for m, v in zip(data.months, data.trend, strict=True) if v is not None]
    if points:
        trend.plot([m for m, _ in points], [v for _, v in points], marker="o")
        trend.set_ylim(0, 100)
        trend.tick_params(axis="x", rotation=45, labelsize=8)
        trend.grid(alpha=0.3)
    else:
        trend.text(0.5, 0.5, data.empty, ha="center", va="center")
    trend.set_title(data.trend_title, fontsize=10)
    return figure


def render_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


async def chart_data(
    session: AsyncSession,
    start: date,
    end: date,
    agency_ids: list[int] | None,
    locale: str,
    min_sample: int,
    as_of: date | None = None,
) -> ChartData:
    """Read the figures for the chart: the agencies the summary's text lists, in its order (in
    the structure of day `as_of`, today's by default), and the headline index month by month."""
    t = Texts(locale)
    ranking = await ranked_for(session, Period(start, end), agency_ids, min_sample, locale, as_of)
    shown = [row for _, row in ranking.listed()]
    short = (end - start).days + 1 < 365
    trend_start = (
        (date(end.year - 1, end.month, 1) + timedelta(days=31)).replace(day=1) if short else start
    )
    months = await summaries.monthly_sums(
        trend_start, end, agency_ids=agency_ids, sector=HEADLINE_SECTOR, session=session
    )
    return ChartData(
        title=t("chart.title", period=f"{start:%d/%m/%Y}–{end:%d/%m/%Y}")
        + "\n"
        + t("chart.caveat"),
        factor_labels=[t(f"rating.short_{f}") for f in FACTORS],
        agency_names=[ranking.names.get(row.key, "?") for row in shown],
        cells=[[row.indicators.satisfaction[f] for f in FACTORS] for row in shown],
        months=list(months),
        trend=[Indicators.from_sums(v).overall for v in months.values()],
        trend_title=t("chart.trend"),
        empty=t("chart.empty"),
        locale=locale,
    )


def chart_maker(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[dict[str, Any]], Awaitable[OutgoingFile]]:
    """The runtime's maker of "chart" files: read in SQL, draw in a worker thread."""

    async def make(params: dict[str, Any]) -> OutgoingFile:
        async with sessions() as session:
            data = await chart_data(
                session,
                date.fromisoformat(params["start"]),
                date.fromisoformat(params["end"]),
                params.get("agency_ids"),
                params.get("locale", "vi"),
                params.get("min_sample", DEFAULT_MIN_SAMPLE),
                structure_day(params),
            )
        png = await asyncio.to_thread(lambda: render_png(draw(data)))
        return OutgoingFile(f"tong-hop-{params['start']}-{params['end']}.png", "image/png", png)

    return make


def summary_maker(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[dict[str, Any]], Awaitable[str]]:
    """The runtime's maker of /summary's text, on the read connections it is given."""

    async def make(params: dict[str, Any]) -> str:
        async with sessions() as session:
            return await summary_message(session, params)

    return make
