"""Summaries for Home Affairs and for each agency: /summary [period] [agency] and /export.

The figures are computed in SQL (`storage/summaries.py`) and turned into indicators here; the
chart and the export files are made after the turn, by the runtime, from a `FileRequest`, so no
turn holds the database while a chart renders. Admins see every agency; an officer, their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import access
from handlers.agency_groups import OTHER, agency_groups
from handlers.casework.states import WITH_THE_AGENCY
from handlers.clock import local_day, system_clock
from handlers.flow import Turn
from handlers.indicators import FACTORS, HEADLINE_SECTOR, Indicators, Ranked, listed, rank
from handlers.lineage import Lineage, load_lineage, retired, roll_up, with_predecessors
from handlers.messages import FileRequest, Reply
from handlers.names import name_of
from handlers.numbers import fixed_text, signed_text
from handlers.periods import Period, looks_like_day, parse_day, parse_period, period_from
from handlers.textmatch import clip
from handlers.texts import Texts
from storage import agencies, summaries
from storage.directory import SECTORS
from storage.models import Agency
from storage.summaries import CaseFigures, OnTime

PER_GROUP = 8
"""Agencies a summary lists per group, in the text and the chart alike."""


@dataclass(slots=True)
class Ranking:
    """Agencies ranked within the groups the directory file names, and their names; the groups
    themselves ranked by their agencies' figures added up."""

    groups: dict[str, list[Ranked]]
    names: dict[int, str]
    labels: dict[str, str] = field(default_factory=dict)
    """The declared groups' labels, in the directory header's order."""
    totals: list[Ranked] = field(default_factory=list)
    """The declared groups ranked, keyed by their place in `labels`."""

    @property
    def order(self) -> list[str]:
        return [*self.labels, OTHER]

    def rows(self) -> list[Ranked]:
        return [row for group in self.order for row in self.groups.get(group, [])]

    def listed(self) -> list[tuple[str, Ranked]]:
        """What the text lists and the chart draws: each group's first `PER_GROUP` ranked."""
        groups = self.groups
        return [(g, row) for g in self.order for row in listed(groups.get(g, []), PER_GROUP)]

    def label(self, t: Texts, group: str) -> str:
        return self.labels.get(group) or t("summary.group_other")


async def ranking(
    session: AsyncSession,
    per_agency: Mapping[int | None, Mapping[str, int]],
    min_sample: int,
    locale: str,
) -> Ranking:
    """Rank the agencies with ratings within their groups, and the declared groups."""
    declared = await agency_groups(locale, session=session)
    found = await agencies.agencies_by_ids(
        [k for k in per_agency if k is not None], session=session
    )
    members: dict[str, dict[int, Indicators]] = {}
    parts: dict[str, list[Mapping[str, int]]] = {}
    for agency in found:
        if agency.id is not None:
            group = declared.group_of(agency)
            indicators = Indicators.from_sums(per_agency[agency.id])
            members.setdefault(group, {})[agency.id] = indicators
            if group != OTHER:
                parts.setdefault(group, []).append(per_agency[agency.id])
    position = {group: i for i, group in enumerate(declared.labels)}
    totals = {position[g]: Indicators.from_sums(summaries.total(p)) for g, p in parts.items()}
    return Ranking(
        {group: rank(rows, min_sample) for group, rows in members.items()},
        {a.id or 0: name_of(a, locale) for a in found},
        declared.labels,
        rank(totals, min_sample),
    )


async def _rolled_up(
    session: AsyncSession, period: Period, agency_ids: Sequence[int] | None, as_of: date
) -> tuple[Sequence[int] | None, dict[int | None, dict[str, int]], dict[int, Lineage]]:
    """The agencies in scope with their predecessors, and their figures under the structure of
    day `as_of`: a merged unit's figures count under its successor."""
    lineage = await load_lineage(session)
    if agency_ids is not None:
        agency_ids = with_predecessors(agency_ids, as_of, lineage)
    sums = await summaries.rating_sums(
        period.start, period.end, by="agency", agency_ids=agency_ids, session=session
    )
    return agency_ids, roll_up(sums, as_of, lineage), lineage


async def ranked_for(
    session: AsyncSession,
    period: Period,
    agency_ids: Sequence[int] | None,
    min_sample: int,
    locale: str,
    as_of: date | None = None,
) -> Ranking:
    """The ranking of a period, as the chart reads it (in today's structure by default)."""
    as_of = as_of or local_day(system_clock())
    _, per_agency, _ = await _rolled_up(session, period, agency_ids, as_of)
    return await ranking(session, per_agency, min_sample, locale)


@dataclass(slots=True)
class Summary:
    period: Period
    overall: Indicators
    """The headline: administrative procedures alone (`HEADLINE_SECTOR`)."""
    previous: Indicators
    year_before: Indicators
    ranking: Ranking
    reports: dict[str, int] = field(default_factory=dict)
    commendations: int = 0
    cases: CaseFigures = field(default_factory=CaseFigures)
    on_time: OnTime = field(default_factory=OnTime)
    retired: frozenset[int] = frozenset()
    """Agencies listed that no longer exist in the structure read (districts, say)."""
    sectors: dict[str, Indicators] = field(default_factory=dict)
    """Each sector's indicators apart (health and education are not one-stop procedures)."""
    per_service: dict[int | None, dict[str, int]] = field(default_factory=dict)
    """The roll-up sums of each rated service, which the sectors add up."""
    as_of: date | None = None
    """The day whose structure the figures are read in."""
    former: date | None = None
    """The last day of the latest former structure the directory holds, if it holds one."""

    @property
    def ratings(self) -> int:
        """Ratings of every sector, the headline's and those reported apart."""
        return sum(found.ratings for found in self.sectors.values())

    @property
    def apart(self) -> dict[str, Indicators]:
        """The sectors reported beside the headline, each with its own index."""
        return {name: found for name, found in self.sectors.items() if name != HEADLINE_SECTOR}

    @property
    def agencies(self) -> list[Ranked]:
        return self.ranking.rows()

    @property
    def names(self) -> dict[int, str]:
        return self.ranking.names


async def headline(
    session: AsyncSession, period: Period, agency_ids: Sequence[int] | None
) -> Indicators:
    """The headline indicators of a period: administrative procedures alone."""
    sums = await summaries.rating_sums(
        period.start,
        period.end,
        by=None,
        agency_ids=agency_ids,
        sector=HEADLINE_SECTOR,
        session=session,
    )
    return Indicators.from_sums(sums.get(None, {}))


async def case_figures(
    session: AsyncSession,
    period: Period,
    now: datetime,
    agency_ids: Sequence[int] | None,
    *,
    pooled: bool,
) -> dict[int, CaseFigures]:
    """The cases opened in the period, per handling agency or pooled; "open" is with the
    agency (a decided case awaiting the reporter's word is not)."""
    start, end = period.bounds()
    return await summaries.case_figures(
        start,
        end,
        now,
        open_states=[s.value for s in WITH_THE_AGENCY],
        agency_ids=agency_ids,
        pooled=pooled,
        session=session,
    )


async def build_summary(
    session: AsyncSession,
    period: Period,
    agency_ids: Sequence[int] | None,
    *,
    now: datetime,
    min_sample: int,
    locale: str,
    as_of: date | None = None,
) -> Summary:
    """Every indicator for the period and scope, from SQL aggregates, read in the structure of
    day `as_of` (today's by default): a merged unit's figures count under its successor."""
    as_of = as_of or local_day(now)
    agency_ids, per_agency, lineage = await _rolled_up(session, period, agency_ids, as_of)
    start, end = period.bounds()
    reports = await summaries.report_counts(start, end, agency_ids=agency_ids, session=session)
    by_category: dict[str, int] = {}
    for (_, category), count in reports.items():
        by_category[category] = by_category.get(category, 0) + count
    praised = await summaries.commendation_counts(
        start, end, agency_ids=agency_ids, session=session
    )
    cases = await case_figures(session, period, now, agency_ids, pooled=True)
    per_service = await summaries.rating_sums(
        period.start, period.end, by="service", agency_ids=agency_ids, session=session
    )
    sectors = await _by_sector(session, per_service)
    return Summary(
        period=period,
        overall=sectors.get(HEADLINE_SECTOR) or Indicators.from_sums({}),
        previous=await headline(session, period.previous(), agency_ids),
        year_before=await headline(session, period.year_before(), agency_ids),
        ranking=await ranking(session, per_agency, min_sample, locale),
        reports=by_category,
        commendations=sum(praised.values()),
        cases=cases.get(summaries.POOLED, CaseFigures()),
        on_time=await summaries.on_time_counts(
            start, end, now, agency_ids=agency_ids, session=session
        ),
        retired=frozenset(a for a in per_agency if retired(a, as_of, lineage)),
        sectors=sectors,
        per_service=per_service,
        as_of=as_of,
        former=_former(lineage),
    )


def _former(lineage: Mapping[int, Lineage]) -> date | None:
    """The last day of the latest structure that ended, if the directory holds one."""
    ends = [entry.valid_to for entry in lineage.values() if entry.valid_to is not None]
    return max(ends) - timedelta(days=1) if ends else None


async def _by_sector(
    session: AsyncSession, per_service: Mapping[int | None, dict[str, int]]
) -> dict[str, Indicators]:
    sector_of = await agencies.sectors_of(
        [s for s in per_service if s is not None], session=session
    )
    parts: dict[str, list[dict[str, int]]] = {}
    for service_id, sums in per_service.items():
        if service_id is not None:
            parts.setdefault(sector_of.get(service_id, "other"), []).append(sums)
    return {
        sector: Indicators.from_sums(summaries.total(parts[sector]))
        for sector in SECTORS
        if sector in parts
    }


async def summary_message(session: AsyncSession, params: Mapping[str, Any]) -> str:
    """The text of /summary, made from the turn's request (see `show_summary`)."""
    period = period_from(
        date.fromisoformat(params["start"]),
        date.fromisoformat(params["end"]),
        params.get("cutoff"),
    )
    summary = await build_summary(
        session,
        period,
        params["agency_ids"],
        now=datetime.fromisoformat(params["now"]),
        min_sample=params["min_sample"],
        locale=params["locale"],
        as_of=structure_day(params),
    )
    return summary_text(Texts(params["locale"]), summary, params["scope"], params["min_sample"])


def structure_day(params: Mapping[str, Any]) -> date | None:
    """The structure a file request reads the figures in (None: today's)."""
    day = params.get("as_of")
    return date.fromisoformat(day) if day else None


def percent(value: float | None, locale: str) -> str:
    return "–" if value is None else fixed_text(value * 100, locale) + "%"


def _share(part: int, whole: int, locale: str) -> str:
    return percent(part / whole if whole else None, locale)


def _change(now: float | None, before: float | None, t: Texts, key: str) -> str:
    if now is None or before is None:
        return t(f"{key}_none")
    return t(key, points=signed_text((now - before) * 100, t.locale))


def summary_text(t: Texts, summary: Summary, scope: str, min_sample: int) -> str:
    """The short text that goes with the chart."""
    o, locale = summary.overall, t.locale
    lines = [
        t("summary.title", scope=scope, period=summary.period.label()),
        *_structure_lines(t, summary),
        t("summary.ratings", count=o.ratings),
        t(
            "summary.overall",
            index=percent(o.overall, locale),
            change=_change(o.overall, summary.previous.overall, t, "summary.change"),
            year=_change(o.overall, summary.year_before.overall, t, "summary.change_year"),
        ),
        *(
            t(
                "summary.factor_line",
                factor=t(f"rating.short_{f}"),
                index=percent(o.satisfaction[f], locale),
                sample=o.samples[f],
            )
            for f in FACTORS
        ),
        t("summary.caveat"),
        t(
            "summary.facts",
            on_time=percent(o.on_time, locale),
            apology=percent(o.apology_when_late, locale),
            papers=percent(o.extra_papers, locale),
            trips=percent(o.three_trips, locale),
            remote=percent(o.remote, locale),
            payment=percent(o.unofficial_payment, locale),
        ),
    ]
    if summary.apart:
        figures = "; ".join(
            t("summary.sector_figure", sector=t(f"summary.sector_{name}"),
              index=percent(found.overall, locale), count=found.ratings)
            for name, found in summary.apart.items()
        )  # fmt: skip
        lines.append(t("summary.sectors", figures=figures))
    lines += _group_lines(t, summary.ranking)
    lines += _ranking_lines(t, summary, min_sample)
    reports = (
        ", ".join(f"{t(f'report.category_{c}')}: {n}" for c, n in sorted(summary.reports.items()))
        or "0"
    )
    lines.append(t("summary.reports", reports=reports, commendations=summary.commendations))
    c, on_time = summary.cases, summary.on_time
    lines.append(
        t(
            "summary.cases",
            open=c.open,
            overdue=c.overdue,
            reassignments=c.reassignments,
            ack=_share(on_time.ack_on_time, on_time.ack_due, locale),
            ack_due=on_time.ack_due,
            answer=_share(on_time.answer_on_time, on_time.answer_due, locale),
            answer_due=on_time.answer_due,
        )
    )
    return "\n".join(lines)


def _structure_lines(t: Texts, summary: Summary) -> list[str]:
    """Which structure the figures are read in, said only where the directory has a history."""
    if summary.former is None or summary.as_of is None:
        return []
    lines = [t("summary.structure", day=f"{summary.as_of:%d/%m/%Y}")]
    if summary.as_of > summary.former:
        lines.append(t("summary.structure_former", day=summary.former.isoformat()))
    return lines


def _group_lines(t: Texts, ranking: Ranking) -> list[str]:
    """The declared groups ranked by their agencies' figures added up, under the file's labels."""
    if not ranking.totals:
        return []
    labels = list(ranking.labels.values())
    lines = [t("summary.group_ranking")]
    for row in ranking.totals:
        lines.append(
            t(
                "summary.group_line",
                place=f"{row.rank}." if row.rank else t("summary.small_sample"),
                name=labels[row.key],
                index=percent(row.indicators.overall, t.locale),
                count=row.indicators.ratings,
            )
        )
    return lines


def _ranking_lines(t: Texts, summary: Summary, min_sample: int) -> list[str]:
    """Each group's ranking: the rows `Ranking.listed` gives the chart too."""
    ranking = summary.ranking
    lines: list[str] = []
    shown = ranking.listed()
    for group in ranking.order:
        rows = ranking.groups.get(group, [])
        if not rows:
            continue
        lines.append(t("summary.ranking", group=ranking.label(t, group), minimum=min_sample))
        for _, row in (item for item in shown if item[0] == group):
            strong, weak = row.indicators.strongest_and_weakest()
            lines.append(
                t(
                    "summary.agency_line",
                    place=f"{row.rank}.",
                    name=_listed_name(t, summary, row.key),
                    index=percent(row.indicators.overall, t.locale),
                    count=row.indicators.ratings,
                    strong=t(f"rating.short_{strong}") if strong else "–",
                    weak=t(f"rating.short_{weak}") if weak else "–",
                )
            )
        small = sum(row.rank is None for row in rows)
        if small:
            lines.append(t("summary.small_samples", count=small, minimum=min_sample))
    return lines


def _listed_name(t: Texts, summary: Summary, agency_id: int) -> str:
    name = summary.names.get(agency_id, "?")
    return t("summary.retired_name", name=name) if agency_id in summary.retired else name


async def _scope(turn: Turn, code: str) -> tuple[list[int] | None, Agency | None] | None:
    """Which agencies the asker may see: admins any (all by default), officers their own."""
    officer = await access.current_officer(turn)
    if officer is None:
        await access.refuse(turn, None, "summary", None)
        return None
    wanted = await agencies.agency_by_code(code, session=turn.session) if code else None
    if code and wanted is None:
        turn.say("summary.unknown_agency", code=clip(code, 40))
        return None
    if access.is_admin(officer):
        return ([wanted.id or 0], wanted) if wanted else (None, None)
    if wanted is not None and wanted.id != officer.agency_id:
        await access.refuse(turn, officer, "summary", None)
        return None
    own = await agencies.agency_by_id(officer.agency_id, session=turn.session)
    return [officer.agency_id], own


@dataclass(frozen=True, slots=True)
class Arguments:
    """What /summary and /export were asked for: a period may come first (a reporting period,
    Decree 09/2019's cut-off day), then a day whose structure to read the figures in; what
    remains is the agency code or the format."""

    period: Period | None
    as_of: date | None
    rest: list[str]

    def request(self) -> dict[str, object]:
        """The structure day as a file request carries it (read back by `structure_day`)."""
        return {"as_of": self.as_of.isoformat() if self.as_of else None}


def _arguments(turn: Turn) -> Arguments:
    words = turn.incoming.command_args.split()
    today = local_day(turn.now)
    cutoff = turn.rules.reporting_cutoff
    period = parse_period("", today, cutoff)
    if words and (named := parse_period(words[0], today, cutoff)) is not None:
        period, words = named, words[1:]
    as_of = parse_day(words[0]) if words else None
    if as_of is None and words and looks_like_day(words[0]):
        return Arguments(None, None, words)  # a day that does not exist: the usage is the help
    return Arguments(period, as_of, words[1:] if as_of else words)


async def show_summary(turn: Turn) -> None:
    """/summary [period] [structure day] [agency code]: the text now, the chart right after."""
    asked = _arguments(turn)
    period, rest = asked.period, asked.rest
    if period is None or len(rest) > 1:
        turn.say("summary.usage")
        return
    scope = await _scope(turn, rest[0] if rest else "")
    if scope is None:
        return
    agency_ids, agency = scope
    t = turn.texts
    label = await scope_label(t, agency, turn.dialog.locale, session=turn.session)
    # Both made after the turn, on a read connection: a year's figures take a while to add up
    # and no write should wait for them.
    text = _request(
        "summary",
        period,
        agency_ids,
        turn,
        scope=label,
        min_sample=turn.rules.min_sample,
        cutoff=turn.rules.reporting_cutoff,
        now=turn.now.isoformat(),
        **asked.request(),
    )
    turn.replies.append(Reply("", file_request=text))
    turn.replies.append(
        Reply(
            t("summary.chart_caption", scope=label, period=period.label()),
            file_request=_request(
                "chart",
                period,
                agency_ids,
                turn,
                min_sample=turn.rules.min_sample,
                **asked.request(),
            ),
        )
    )
    officer = await access.current_officer(turn)
    if officer is not None:
        await access.record(turn, officer, "summary", None)


async def scope_label(
    t: Texts, agency: Agency | None, locale: str, *, session: AsyncSession
) -> str:
    """The agency summed up, or the whole province by the name the directory gives it."""
    if agency is not None:
        return name_of(agency, locale)
    province = await agencies.province_name(locale, session=session)
    return t("summary.province", province=province) if province else t("summary.all_agencies")


def _request(
    kind: str, period: Period, agency_ids: list[int] | None, turn: Turn, **extra: object
) -> FileRequest:
    return FileRequest(
        kind,
        {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "agency_ids": agency_ids,
            "locale": turn.dialog.locale,
            **extra,
        },
    )


async def send_export(turn: Turn) -> None:
    """/export [period] [structure day] [csv|xlsx]: the file follows as a document."""
    asked = _arguments(turn)
    period, rest = asked.period, asked.rest
    file_format = rest[0].lower() if rest else "xlsx"
    if period is None or file_format not in ("csv", "xlsx") or len(rest) > 1:
        turn.say("summary.export_usage")
        return
    scope = await _scope(turn, "")
    if scope is None:
        return
    agency_ids, _ = scope
    officer = await access.current_officer(turn)
    if officer is None:
        return
    if agency_ids is not None:
        # As in the summary: an agency's file holds the rows of the units merged into it.
        as_of = asked.as_of or local_day(turn.now)
        agency_ids = with_predecessors(agency_ids, as_of, await load_lineage(turn.session))
    admin = access.is_admin(officer)
    request = _request(
        "export",
        period,
        agency_ids,
        turn,
        format=file_format,
        pseudonyms=admin,
        hidden_official=None if admin else officer.official_id,
        **asked.request(),
    )
    turn.replies.append(
        Reply(turn.texts("summary.export_caption", period=period.label()), file_request=request)
    )
    await access.record(turn, officer, f"export_{file_format}", None)
