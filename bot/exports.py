"""Exports for Home Affairs: ratings, reports, cases with their events, reassignments and the
summary, as XLSX (one sheet each) or CSV (a ZIP of one UTF-8-with-BOM file each).

Rows stream from the database in chunks and are written as they come (XlsxWriter's
constant-memory mode; csv into the ZIP member), so memory stays flat however many rows there are.
An anonymous reporter appears only as the report's own handle (two reports of one person share
nothing) and ratings name nobody; free text only when asked for. Cells that a spreadsheet would
run as a formula (= + - @ and tab or return first) are neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import xlsxwriter
from sqlalchemy import Select, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.clock import LOCAL_ZONE
from handlers.indicators import FACTORS, Indicators
from handlers.messages import OutgoingFile
from handlers.periods import Period
from handlers.rating import QUESTIONS
from handlers.texts import Texts
from storage import summaries
from storage.models import (
    Agency,
    Assignment,
    Case,
    CaseEvent,
    Official,
    Rating,
    Report,
    Service,
)

_CHUNK = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Progress = Callable[[int], None]


def neutralise(value: str) -> str:
    """Text a spreadsheet would take for a formula gets a leading apostrophe."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_ZONE).replace(tzinfo=None)
    if isinstance(value, str):
        return neutralise(value)
    return value


class Tables(Protocol):
    def sheet(self, name: str, headers: Sequence[str], kinds: Sequence[str]) -> None: ...
    def row(self, values: Sequence[Any]) -> None: ...
    def close(self) -> None: ...


class XlsxTables:
    """One worksheet per table: bold frozen header row, dates and percentages formatted."""

    def __init__(self, path: Path) -> None:
        self._book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        bold = self._book.add_format({"bold": True, "bg_color": "#DDEBF7"})
        self._header = bold
        self._formats = {
            "date": self._book.add_format({"num_format": "dd/mm/yyyy"}),
            "datetime": self._book.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
            "percent": self._book.add_format({"num_format": "0.0%"}),
            "number": self._book.add_format({"num_format": "0.00"}),
        }
        self._sheet: Any = None
        self._kinds: Sequence[str] = ()
        self._row = 0

    def sheet(self, name: str, headers: Sequence[str], kinds: Sequence[str]) -> None:
        self._sheet = self._book.add_worksheet(name[:31])
        self._sheet.freeze_panes(1, 0)
        for column, header in enumerate(headers):
            self._sheet.write_string(0, column, header, self._header)
            self._sheet.set_column(column, column, max(10, min(40, len(header) + 4)))
        self._kinds, self._row = kinds, 1

    def row(self, values: Sequence[Any]) -> None:
        for column, (value, kind) in enumerate(zip(values, self._kinds, strict=True)):
            value = _cell(value)
            if value is None:
                continue
            if kind in ("date", "datetime"):
                self._sheet.write_datetime(self._row, column, value, self._formats[kind])
            elif isinstance(value, str):
                self._sheet.write_string(self._row, column, value)
            elif kind in self._formats:
                self._sheet.write_number(self._row, column, value, self._formats[kind])
            else:
                self._sheet.write_number(self._row, column, value)
        self._row += 1

    def close(self) -> None:
        self._book.close()


class CsvZipTables:
    """A ZIP with one CSV per table, UTF-8 with BOM so spreadsheet programs show Vietnamese."""

    def __init__(self, path: Path) -> None:
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self._stream: io.TextIOWrapper | None = None
        self._writer: Any = None

    def sheet(self, name: str, headers: Sequence[str], kinds: Sequence[str]) -> None:
        self._end_sheet()
        member = self._zip.open(f"{name}.csv", "w")
        self._stream = io.TextIOWrapper(member, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._stream)
        self._writer.writerow(headers)

    def row(self, values: Sequence[Any]) -> None:
        self._writer.writerow(["" if v is None else _csv_value(_cell(v)) for v in values])

    def _end_sheet(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        self._end_sheet()
        self._zip.close()


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True, slots=True)
class ExportRequest:
    period: Period
    agency_ids: list[int] | None
    free_text: bool
    locale: str
    pseudonyms: bool = True
    """Only Home Affairs sees report handles: an agency could match them with its own records."""
    hidden_official: int | None = None
    """An officer never receives what was reported about themselves."""

    def about_others(self, official: Any) -> Any:
        """A condition leaving out rows about the hidden official."""
        if self.hidden_official is None:
            return true()
        return or_(official.is_(None), official != self.hidden_official)


def _start_sheet(tables: Tables, t: Texts, name: str, columns: dict[str, str]) -> None:
    """Begin a sheet; each column key stands beside its cell kind, so the two cannot drift."""
    headers = [t(f"export.col_{key}") for key in columns]
    tables.sheet(t(f"export.sheet_{name}"), headers, list(columns.values()))


async def _stream(session: AsyncSession, query: Select[Any]) -> AsyncIterator[Sequence[Any]]:
    result = await session.stream(query.execution_options(yield_per=_CHUNK))
    async for partition in result.partitions(_CHUNK):
        for row in partition:
            yield row


def _in_scope(query: Select[Any], column: Any, agency_ids: list[int] | None) -> Select[Any]:
    return query if agency_ids is None else query.where(column.in_(agency_ids))


async def count_rows(session: AsyncSession, request: ExportRequest) -> int:
    """How many rating rows an export will write (for the progress bar)."""
    start, end = request.period.bounds()
    query = (
        select(func.count())
        .select_from(Rating)
        .where(Rating.created_at >= start, Rating.created_at < end)
    )
    return (await session.scalar(_in_scope(query, Rating.agency_id, request.agency_ids))) or 0


async def write_export(
    sessions: async_sessionmaker[AsyncSession],
    tables: Tables,
    request: ExportRequest,
    progress: Progress | None = None,
) -> None:
    """Write every table of the export, streaming."""
    t = Texts(request.locale)
    start, end = request.period.bounds()
    free = request.free_text
    async with sessions() as session:
        columns = {
            "date": "datetime",
            "agency_code": "text",
            "agency": "text",
            "service_code": "text",
            "service": "text",
            "channel": "text",
            **dict.fromkeys(FACTORS, "int"),
            "timeliness": "text",
            "apology": "text",
            "extra_papers": "text",
            "trips": "int",
            "submission": "text",
            "unofficial_payment": "text",
            "comment": "text",
        }
        _start_sheet(tables, t, "ratings", columns)
        query = (
            select(
                Rating,
                Agency.code,
                Agency.name_vi,
                Service.code,
                Service.name_vi,
            )
            .join(Agency, Agency.id == Rating.agency_id)
            .join(Service, Service.id == Rating.service_id)
            .where(Rating.created_at >= start, Rating.created_at < end)
            .order_by(Rating.id)
        )
        questions = {q.field: q for q in QUESTIONS}

        def answer(field: str, value: str | None) -> str | None:
            """An option's label as the citizen saw it, not its stored code."""
            return t(questions[field].label_key(value)) if value else None

        written = 0
        async for rating, a_code, a_name, s_code, s_name in _stream(
            session, _in_scope(query, Rating.agency_id, request.agency_ids)
        ):
            tables.row(
                [
                    rating.created_at,
                    a_code,
                    a_name,
                    s_code,
                    s_name,
                    rating.channel,
                    rating.score_access,
                    rating.score_procedure,
                    rating.score_conduct,
                    rating.score_result,
                    rating.score_feedback,
                    answer("timeliness", rating.timeliness),
                    answer("apology", rating.apology),
                    answer("extra_papers", rating.extra_papers),
                    rating.trips,
                    answer("submission", rating.submission),
                    answer("payment", rating.unofficial_payment),
                    rating.comment if free else None,
                ]
            )
            written += 1
            if progress is not None and written % _CHUNK == 0:
                progress(_CHUNK)
        if progress is not None:
            progress(written % _CHUNK)

        await _reports(session, tables, request, t, start, end)
        await _cases(session, tables, request, t, start, end)
        await _reassignments(session, tables, request, t, start, end)
        await _summary(session, tables, request, t, by="agency")
        await _summary(session, tables, request, t, by="service")


async def _reports(
    session: AsyncSession,
    tables: Tables,
    request: ExportRequest,
    t: Texts,
    start: datetime,
    end: datetime,
) -> None:
    columns = {
        "report": "int",
        "date": "datetime",
        "category": "text",
        "agency_code": "text",
        "agency": "text",
        "official_code": "text",
        "official": "text",
        "occurred_on": "date",
        "anonymous": "text",
        "citizen": "text",
        "channel": "text",
        "description": "text",
        "official_description": "text",
    }
    _start_sheet(tables, t, "reports", columns)
    query = (
        select(Report, Agency.code, Agency.name_vi, Official.code, Official.name)
        .join(Agency, Agency.id == Report.agency_id)
        .join(Official, Official.id == Report.official_id, isouter=True)
        .where(Report.created_at >= start, Report.created_at < end)
        .where(request.about_others(Report.official_id))
        .order_by(Report.id)
    )
    async for report, a_code, a_name, o_code, o_name in _stream(
        session, _in_scope(query, Report.agency_id, request.agency_ids)
    ):
        tables.row(
            [
                report.id,
                report.created_at,
                t(f"report.category_{report.category}"),
                a_code,
                a_name,
                o_code,
                o_name,
                report.occurred_on,
                t("export.yes") if report.anonymous else t("export.no"),
                report.handle if request.pseudonyms and report.anonymous else None,
                report.channel,
                report.description if request.free_text else None,
                report.official_description if request.free_text else None,
            ]
        )


async def _cases(
    session: AsyncSession,
    tables: Tables,
    request: ExportRequest,
    t: Texts,
    start: datetime,
    end: datetime,
) -> None:
    columns = {
        "case": "int",
        "report": "int",
        "agency_code": "text",
        "state": "text",
        "flag": "text",
        "opened": "datetime",
        "ack_due": "datetime",
        "decide_due": "datetime",
        "acknowledged": "datetime",
        "decided": "datetime",
        "closed": "datetime",
        "outcome": "text",
    }
    _start_sheet(tables, t, "cases", columns)
    query = (
        select(Case, Agency.code)
        .join(Agency, Agency.id == Case.agency_id)
        .join(Report, Report.id == Case.report_id)
        .where(Case.created_at >= start, Case.created_at < end)
        .where(request.about_others(Report.official_id))
        .order_by(Case.id)
    )
    async for case, a_code in _stream(
        session, _in_scope(query, Case.agency_id, request.agency_ids)
    ):
        tables.row(
            [
                case.id,
                case.report_id,
                a_code,
                t(f"state.{case.state}"),
                t(f"flag.{case.flag_reason}") if case.flag_reason else None,
                case.created_at,
                case.ack_due,
                case.decide_due,
                case.acknowledged_at,
                case.decided_at,
                case.closed_at,
                t(f"outcome.{case.outcome}") if case.outcome else None,
            ]
        )
    columns = {
        "case": "int",
        "at": "datetime",
        "actor": "text",
        "action": "text",
        "from_state": "text",
        "to_state": "text",
        "text": "text",
    }
    _start_sheet(tables, t, "events", columns)
    query = (
        select(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Report, Report.id == Case.report_id)
        .where(Case.created_at >= start, Case.created_at < end)
        .where(request.about_others(Report.official_id))
        .order_by(CaseEvent.id)
    )
    async for (event,) in _stream(session, _in_scope(query, Case.agency_id, request.agency_ids)):
        tables.row(
            [
                event.case_id,
                event.at,
                t(f"export.actor_{event.actor}"),
                t(f"officer.event_{event.action}"),
                t(f"state.{event.from_state}") if event.from_state else None,
                t(f"state.{event.to_state}") if event.to_state else None,
                event.text if request.free_text else None,
            ]
        )


async def _reassignments(
    session: AsyncSession,
    tables: Tables,
    request: ExportRequest,
    t: Texts,
    start: datetime,
    end: datetime,
) -> None:
    columns = {
        "official_code": "text",
        "official": "text",
        "agency_code": "text",
        "new_post": "text",
        "effective_on": "date",
        "decision_number": "text",
        "case": "int",
        "recorded": "datetime",
    }
    _start_sheet(tables, t, "reassignments", columns)
    query = (
        select(Assignment, Official.code, Official.name, Agency.code)
        .join(Official, Official.id == Assignment.official_id)
        .join(Agency, Agency.id == Official.agency_id)
        .where(Assignment.recorded_at >= start, Assignment.recorded_at < end)
        .where(request.about_others(Assignment.official_id))
        .order_by(Assignment.id)
    )
    async for assignment, o_code, o_name, a_code in _stream(
        session, _in_scope(query, Official.agency_id, request.agency_ids)
    ):
        tables.row(
            [
                o_code,
                o_name,
                a_code,
                assignment.new_post,
                assignment.effective_on,
                assignment.decision_number,
                assignment.case_id,
                assignment.recorded_at,
            ]
        )


_RATES = [
    "overall",
    *[f"index_{f}" for f in FACTORS],
    "on_time",
    "apology_when_late",
    "extra_papers_rate",
    "three_trips",
    "remote",
    "payment_rate",
]


async def _summary(
    session: AsyncSession, tables: Tables, request: ExportRequest, t: Texts, *, by: str
) -> None:
    """One row of indicators per agency (`by="agency"`) or per service (`by="service"`)."""
    columns = {f"{by}_code": "text", by: "text", "ratings": "int"}
    columns |= dict.fromkeys(_RATES, "percent")
    _start_sheet(tables, t, "summary" if by == "agency" else "summary_services", columns)
    period = request.period
    sums = await summaries.rating_sums(
        period.start, period.end, by=by, agency_ids=request.agency_ids, session=session
    )
    named = Agency if by == "agency" else Service
    rows = await session.execute(
        select(named.id, named.code, named.name_vi).where(named.id.in_(list(sums)))
    )
    names = {row.id: (row.code, row.name_vi) for row in rows}
    for key, values in sorted(sums.items(), key=lambda item: names.get(item[0], ("", ""))):
        i = Indicators.from_sums(values)
        tables.row(
            [
                *names.get(key, ("", "")),
                i.ratings,
                i.overall,
                *[i.satisfaction[f] for f in FACTORS],
                i.on_time,
                i.apology_when_late,
                i.extra_papers,
                i.three_trips,
                i.remote,
                i.unofficial_payment,
            ]
        )


def open_tables(path: Path, file_format: str) -> Tables:
    return XlsxTables(path) if file_format == "xlsx" else CsvZipTables(path)


def export_maker(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[dict[str, Any]], Awaitable[OutgoingFile]]:
    """The runtime's maker of "export" files for /export in chat."""

    async def make(params: dict[str, Any]) -> OutgoingFile:
        request = ExportRequest(
            Period(date.fromisoformat(params["start"]), date.fromisoformat(params["end"])),
            params.get("agency_ids"),
            free_text=False,
            locale=params.get("locale", "vi"),
            pseudonyms=bool(params.get("pseudonyms", False)),
            hidden_official=params.get("hidden_official"),
        )
        file_format = params.get("format", "xlsx")
        suffix = ".xlsx" if file_format == "xlsx" else ".zip"
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"export{suffix}"
            tables = open_tables(path, file_format)
            await write_export(sessions, tables, request)
            tables.close()
            content = path.read_bytes()
        name = f"phan-anh-danh-gia-{params['start']}-{params['end']}{suffix}"
        return OutgoingFile(name, XLSX if file_format == "xlsx" else "application/zip", content)

    return make
