"""Summaries for Home Affairs and for each agency: /summary [period] [agency] and /export.

The figures are computed in SQL (`storage/summaries.py`) and turned into indicators here; the
chart and the export files are made after the turn, by the runtime, from a `FileRequest`, so no
turn holds the database while a chart renders. Admins see every agency; an officer, their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import access
from handlers.agency_picker import name_of
from handlers.casework.states import WITH_THE_AGENCY
from handlers.clock import local_day
from handlers.flow import Turn
from handlers.indicators import FACTORS, Indicators, Ranked, rank
from handlers.lineage import Lineage, retired, roll_up, with_predecessors
from handlers.messages import FileRequest, Reply
from handlers.periods import Period, parse_period
from handlers.textmatch import clip
from handlers.texts import Texts
from storage import agencies, summaries
from storage.directory import SECTORS
from storage.models import Agency
from storage.summaries import CaseFigures


@dataclass(slots=True)
class Summary:
    period: Period
    overall: Indicators
    previous: Indicators
    agencies: list[Ranked]
    names: dict[int, str]
    reports: dict[str, int] = field(default_factory=dict)
    commendations: int = 0
    cases: CaseFigures = field(default_factory=CaseFigures)
    retired: frozenset[int] = frozenset()
    sectors: dict[str, Indicators] = field(default_factory=dict)
    groups: list[Ranked] = field(default_factory=list)
    """Groups of agencies ranked (keys index `group_names`), with labels from the directory."""
    group_names: dict[int, str] = field(default_factory=dict)
    """Each sector's indicators apart (health and education are not one-stop procedures)."""
    """Agencies listed that no longer exist in the structure read (districts, say)."""


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
    lineage = {a: Lineage(s, f, t) for a, s, f, t in await agencies.lineage_rows(session=session)}
    if agency_ids is not None:
        agency_ids = with_predecessors(agency_ids, as_of, lineage)
    per_agency = roll_up(
        await summaries.rating_sums(
            period.start, period.end, by="agency", agency_ids=agency_ids, session=session
        ),
        as_of,
        lineage,
    )
    before = period.previous()
    previous = await summaries.rating_sums(
        before.start, before.end, by=None, agency_ids=agency_ids, session=session
    )
    ranked = rank({k: Indicators.from_sums(v) for k, v in per_agency.items()}, min_sample)
    found = await agencies.agencies_by_ids([r.key for r in ranked], session=session)
    start, end = period.bounds()
    reports = await summaries.report_counts(start, end, agency_ids=agency_ids, session=session)
    by_category: dict[str, int] = {}
    for (_, category), count in reports.items():
        by_category[category] = by_category.get(category, 0) + count
    praised = await summaries.commendation_counts(
        start, end, agency_ids=agency_ids, session=session
    )
    cases = await summaries.case_figures(
        start,
        end,
        now,
        open_states=[s.value for s in WITH_THE_AGENCY],
        agency_ids=agency_ids,
        pooled=True,
        session=session,
    )
    return Summary(
        period=period,
        overall=Indicators.from_sums(summaries.total(per_agency.values())),
        previous=Indicators.from_sums(previous.get(None, {})),
        agencies=ranked,
        names={a.id or 0: name_of(a, locale) for a in found},
        reports=by_category,
        commendations=sum(praised.values()),
        cases=cases.get(summaries.POOLED, CaseFigures()),
        retired=frozenset(a for a in per_agency if retired(a, as_of, lineage)),
        sectors=await _by_sector(session, period, agency_ids),
        **await _by_group(session, per_agency, min_sample, locale),
    )


async def _by_group(
    session: AsyncSession, per_agency: dict[int, dict[str, int]], min_sample: int, locale: str
) -> dict[str, Any]:
    """The agencies' figures added up per group the directory names, ranked."""
    header = await agencies.directory_header(session=session)
    declared = header.groups if header is not None else []
    position = {group["code"]: i for i, group in enumerate(declared)}
    group_of = await agencies.groups_of(list(per_agency), session=session)
    parts: dict[int, list[dict[str, int]]] = {}
    for agency_id, sums in per_agency.items():
        if group_of.get(agency_id) in position:
            parts.setdefault(position[group_of[agency_id]], []).append(sums)
    found = {i: Indicators.from_sums(summaries.total(p)) for i, p in parts.items()}
    label = "label_en" if locale == "en" else "label_vi"
    return {
        "groups": rank(found, min_sample),
        "group_names": {i: declared[i][label] for i in found},
    }


async def _by_sector(
    session: AsyncSession, period: Period, agency_ids: Sequence[int] | None
) -> dict[str, Indicators]:
    per_service = await summaries.rating_sums(
        period.start, period.end, by="service", agency_ids=agency_ids, session=session
    )
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


def _listed_name(t: Texts, summary: Summary, agency_id: int) -> str:
    name = summary.names.get(agency_id, "?")
    return t("summary.retired_name", name=name) if agency_id in summary.retired else name


async def summary_message(session: AsyncSession, params: Mapping[str, Any]) -> str:
    """The text of /summary, made from the turn's request (see `show_summary`)."""
    period = Period(date.fromisoformat(params["start"]), date.fromisoformat(params["end"]))
    summary = await build_summary(
        session,
        period,
        params["agency_ids"],
        now=datetime.fromisoformat(params["now"]),
        min_sample=params["min_sample"],
        locale=params["locale"],
    )
    return summary_text(Texts(params["locale"]), summary, params["scope"], params["min_sample"])


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _change(now: float | None, before: float | None, t: Texts) -> str:
    if now is None or before is None:
        return t("summary.no_change_figure")
    return t("summary.change", points=f"{(now - before) * 100:+.1f}")


def summary_text(t: Texts, summary: Summary, scope: str, min_sample: int) -> str:
    """The short text that goes with the chart."""
    o = summary.overall
    lines = [
        t("summary.title", scope=scope, period=summary.period.label()),
        t("summary.ratings", count=o.ratings),
        t(
            "summary.overall",
            index=percent(o.overall),
            change=_change(o.overall, summary.previous.overall, t),
        ),
        *(f"  • {t(f'rating.short_{f}')}: {percent(o.satisfaction[f])}" for f in FACTORS),
        t(
            "summary.facts",
            on_time=percent(o.on_time),
            apology=percent(o.apology_when_late),
            papers=percent(o.extra_papers),
            trips=percent(o.three_trips),
            remote=percent(o.remote),
            payment=percent(o.unofficial_payment),
        ),
    ]
    if summary.sectors:
        figures = "; ".join(
            t("summary.sector_figure", sector=t(f"summary.sector_{name}"),
              index=percent(found.overall), count=found.ratings)
            for name, found in summary.sectors.items()
        )  # fmt: skip
        lines.append(t("summary.sectors", figures=figures))
    if summary.groups:
        lines.append(t("summary.group_ranking"))
        for row in summary.groups:
            place = f"{row.rank}." if row.rank else t("summary.small_sample")
            name = summary.group_names.get(row.key, "?")
            lines.append(
                t(
                    "summary.group_line",
                    place=place,
                    name=name,
                    index=percent(row.indicators.overall),
                    count=row.indicators.ratings,
                )
            )
    if summary.agencies:
        lines.append(t("summary.ranking", minimum=min_sample))
        for row in summary.agencies[:10]:
            strong, weak = row.indicators.strongest_and_weakest()
            place = f"{row.rank}." if row.rank else t("summary.small_sample")
            lines.append(
                t(
                    "summary.agency_line",
                    place=place,
                    name=_listed_name(t, summary, row.key),
                    index=percent(row.indicators.overall),
                    count=row.indicators.ratings,
                    strong=t(f"rating.short_{strong}") if strong else "–",
                    weak=t(f"rating.short_{weak}") if weak else "–",
                )
            )
    reports = (
        ", ".join(f"{t(f'report.category_{c}')}: {n}" for c, n in sorted(summary.reports.items()))
        or "0"
    )
    lines.append(t("summary.reports", reports=reports, commendations=summary.commendations))
    c = summary.cases
    lines.append(
        t(
            "summary.cases",
            open=c.open,
            overdue=c.overdue,
            reassignments=c.reassignments,
            ack=_days(c.median_days_to_acknowledge),
            decide=_days(c.median_days_to_decide),
        )
    )
    return "\n".join(lines)


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


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


def _arguments(turn: Turn) -> tuple[Period | None, list[str]]:
    """A period may come first; what remains is the agency code or the format."""
    words = turn.incoming.command_args.split()
    today = local_day(turn.now)
    if words and (period := parse_period(words[0], today)) is not None:
        return period, words[1:]
    return parse_period("", today), words


async def show_summary(turn: Turn) -> None:
    """/summary [period] [agency code]: the text now, the chart right after."""
    period, rest = _arguments(turn)
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
        now=turn.now.isoformat(),
    )
    turn.replies.append(Reply("", file_request=text))
    turn.replies.append(
        Reply(
            t("summary.chart_caption", scope=label, period=period.label()),
            file_request=_request("chart", period, agency_ids, turn),
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
    """/export [period] [csv|xlsx]: the file follows as a document."""
    period, rest = _arguments(turn)
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
    admin = access.is_admin(officer)
    request = _request(
        "export",
        period,
        agency_ids,
        turn,
        format=file_format,
        pseudonyms=admin,
        hidden_official=None if admin else officer.official_id,
    )
    turn.replies.append(
        Reply(turn.texts("summary.export_caption", period=period.label()), file_request=request)
    )
    await access.record(turn, officer, f"export_{file_format}", None)
