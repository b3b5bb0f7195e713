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
from handlers.messages import FileRequest, Reply
from handlers.periods import Period, parse_period
from handlers.textmatch import clip
from handlers.texts import Texts
from storage import agencies, summaries
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


async def build_summary(
    session: AsyncSession,
    period: Period,
    agency_ids: Sequence[int] | None,
    *,
    now: datetime,
    min_sample: int,
    locale: str,
) -> Summary:
    """Every indicator for the period and scope, from SQL aggregates."""
    per_agency = await summaries.rating_sums(
        period.start, period.end, by="agency", agency_ids=agency_ids, session=session
    )
    before = period.previous()
    previous = await summaries.rating_sums(
        before.start, before.end, by=None, agency_ids=agency_ids, session=session
    )
    ranked = rank(
        {k: Indicators.from_sums(v) for k, v in per_agency.items() if k is not None},
        min_sample,
    )
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
    )


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
    if summary.agencies:
        lines.append(t("summary.ranking", minimum=min_sample))
        for row in summary.agencies[:10]:
            strong, weak = row.indicators.strongest_and_weakest()
            place = f"{row.rank}." if row.rank else t("summary.small_sample")
            lines.append(
                t(
                    "summary.agency_line",
                    place=place,
                    name=summary.names.get(row.key, "?"),
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
    label = name_of(agency, turn.dialog.locale) if agency else t("summary.province")
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
