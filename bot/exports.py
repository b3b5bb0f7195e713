"""Exports for Home Affairs: ratings, reports, cases with their events, reassignments and the
summary, as XLSX (one sheet each) or CSV (a ZIP of one UTF-8-with-BOM file each).

Rows stream from the database in chunks of plain tuples (columns, not ORM objects; names and
labels looked up once per export, not per row) and are written as they come (XlsxWriter's
constant-memory mode; csv into the ZIP member), so memory stays flat however many rows there are.
An anonymous reporter appears only as the report's own handle (two reports of one person share
nothing) and ratings name nobody; free text only when asked for. Cells that a spreadsheet would
run as a formula (= + - @ and tab or return first) are neutralised with a leading apostrophe.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import tempfile
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import xlsxwriter
from sqlalchemy import Select, func, null, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.citizen.rating import QUESTIONS
from handlers.clock import LOCAL_ZONE
from handlers.indicators import FACTORS, Indicators
from handlers.messages import OutgoingFile
from handlers.periods import Period
from handlers.texts import Texts
from storage import summaries
from storage.db import make_engine
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

_CHUNK = 5000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Progress = Callable[[int], None]
Converter = Callable[[Any], Any]


def neutralise(value: str) -> str:
    """Text a spreadsheet would take for a formula gets a leading apostrophe."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def local_time(value: datetime) -> datetime:
    """A stored UTC instant as a Vietnamese wall-clock time, without a zone (spreadsheets have
    none)."""
    return value.astimezone(LOCAL_ZONE).replace(tzinfo=None)


def _csv_time(value: datetime) -> str:
    return value.astimezone(LOCAL_ZONE).isoformat(" ", "minutes")[:16]


def _converted(row: Sequence[Any], converters: Sequence[tuple[int, Converter]]) -> list[Any]:
    """The row with each converted column replaced (None stays None)."""
    cells = list(row)
    for column, convert in converters:
        if cells[column] is not None:
            cells[column] = convert(cells[column])
    return cells


class Tables(Protocol):
    """Where an export's tables go. A column's kind says how its cells are written: "text"
    is neutralised cell by cell; "label" came through `Labels` (or `_codes_and_names`), made
    safe once per export; "datetime" (a UTC instant) is shown in Vietnam time."""

    def sheet(self, name: str, headers: Sequence[str], kinds: Sequence[str]) -> None: ...
    def rows(self, rows: Iterable[Sequence[Any]]) -> None: ...
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
        self._writers: list[Callable[[int, int, Any], Any]] = []
        self._row = 0

    def sheet(self, name: str, headers: Sequence[str], kinds: Sequence[str]) -> None:
        self._sheet = self._book.add_worksheet(name[:31])
        self._sheet.freeze_panes(1, 0)
        for column, header in enumerate(headers):
            self._sheet.write_string(0, column, header, self._header)
            self._sheet.set_column(column, column, max(10, min(40, len(header) + 4)))
        self._writers = [self._writer(kind) for kind in kinds]
        self._row = 1

    def _writer(self, kind: str) -> Callable[[int, int, Any], Any]:
        """How a column's cells are written, chosen once per sheet rather than per cell."""
        sheet, style = self._sheet, self._formats.get(kind)
        if kind in ("date", "datetime"):
            convert = local_time if kind == "datetime" else (lambda day: day)
            return lambda row, column, value: sheet.write_datetime(
                row, column, convert(value), style
            )
        if kind == "text":
            return lambda row, column, value: sheet.write_string(row, column, neutralise(value))
        if kind == "label":
            return lambda row, column, value: sheet.write_string(row, column, value)
        return lambda row, column, value: sheet.write_number(row, column, value, style)

    def rows(self, rows: Iterable[Sequence[Any]]) -> None:
        writers = self._writers
        for values in rows:
            for column, value in enumerate(values):
                if value is not None:
                    writers[column](self._row, column, value)
            self._row += 1

    def close(self) -> None:
        self._book.close()


_CSV_CONVERTERS: dict[str, Converter] = {
    "text": neutralise,
    "datetime": _csv_time,
    "date": date.isoformat,
}


class CsvZipTables:
    """A ZIP with one CSV per table, UTF-8 with BOM so spreadsheet programs show Vietnamese.

    A chunk of rows is written to text at once and compressed at level 1: a CSV shrinks nearly
    as much as at the default level, several times faster."""

    def __init__(self, path: Path) -> None:
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self._member: IO[bytes] | None = None
        self._converters: list[tuple[int, Converter]] = []

    def sheet(self, name: str, headers: Sequence[str], kinds: Sequence[str]) -> None:
        self._end_sheet()
        self._member = self._zip.open(f"{name}.csv", "w")
        self._member.write(codecs.BOM_UTF8)
        self._write([headers])
        self._converters = [
            (column, _CSV_CONVERTERS[kind])
            for column, kind in enumerate(kinds)
            if kind in _CSV_CONVERTERS
        ]

    def rows(self, rows: Iterable[Sequence[Any]]) -> None:
        converters = self._converters
        self._write(_converted(row, converters) for row in rows)

    def _write(self, rows: Iterable[Sequence[Any]]) -> None:
        assert self._member is not None, "a sheet comes first"
        text = io.StringIO()
        csv.writer(text).writerows(rows)
        self._member.write(text.getvalue().encode())

    def _end_sheet(self) -> None:
        if self._member is not None:
            self._member.close()
            self._member = None

    def close(self) -> None:
        self._end_sheet()
        self._zip.close()


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


async def _batches(session: AsyncSession, query: Select[Any]) -> AsyncIterator[Sequence[Any]]:
    """The query's rows as plain tuples, a chunk at a time, however many there are.

    Core rows on the session's connection (no ORM loading), and the next chunk is fetched
    while the caller writes this one: the database works in its own thread meanwhile."""
    connection = await session.connection()
    result = await connection.stream(query.execution_options(yield_per=_CHUNK))
    chunks = aiter(result.partitions(_CHUNK))
    upcoming = asyncio.ensure_future(anext(chunks, None))
    try:
        while (chunk := await upcoming) is not None:
            upcoming = asyncio.ensure_future(anext(chunks, None))
            await asyncio.sleep(0)  # the fetch starts before the caller's writing holds the loop
            yield chunk
    finally:
        upcoming.cancel()


class Labels(dict[Any, str | None]):
    """Labels of stored codes, each looked up (and made safe for a spreadsheet) once per
    export rather than per row."""

    def __init__(self, label: Callable[[Any], str]) -> None:
        super().__init__()
        self._label = label

    def __missing__(self, code: Any) -> str | None:
        value = self[code] = None if code is None else neutralise(self._label(code))
        return value


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
    async with sessions() as session:
        await _ratings(session, tables, request, t, progress)
        await _reports(session, tables, request, t, start, end)
        await _cases(session, tables, request, t, start, end)
        await _reassignments(session, tables, request, t, start, end)
        await _summary(session, tables, request, t, by="agency")
        await _summary(session, tables, request, t, by="service")


async def _codes_and_names(session: AsyncSession, table: Any) -> dict[int, tuple[str, str]]:
    """Every agency's or service's code and name, as labels: a directory is small, a year of
    ratings is not."""
    rows = await session.execute(select(table.id, table.code, table.name_vi))
    return {id_: (neutralise(code), neutralise(name)) for id_, code, name in rows}


async def _ratings(
    session: AsyncSession,
    tables: Tables,
    request: ExportRequest,
    t: Texts,
    progress: Progress | None,
) -> None:
    columns = {
        "date": "datetime",
        "agency_code": "label",
        "agency": "label",
        "service_code": "label",
        "service": "label",
        "channel": "label",
        **dict.fromkeys(FACTORS, "int"),
        "timeliness": "label",
        "apology": "label",
        "extra_papers": "label",
        "trips": "int",
        "submission": "label",
        "unofficial_payment": "label",
        "comment": "text",
    }
    _start_sheet(tables, t, "ratings", columns)
    agencies = await _codes_and_names(session, Agency)
    services = await _codes_and_names(session, Service)
    # What the citizen saw for each option, not its stored code.
    answers = {q.field: Labels(lambda code, q=q: t(q.label_key(code))) for q in QUESTIONS}
    channels = Labels(str)
    start, end = request.period.bounds()
    query = (
        select(
            Rating.created_at,
            Rating.agency_id,
            Rating.service_id,
            Rating.channel,
            *(getattr(Rating, f"score_{factor}") for factor in FACTORS),
            Rating.timeliness,
            Rating.apology,
            Rating.extra_papers,
            Rating.trips,
            Rating.submission,
            Rating.unofficial_payment,
            Rating.comment if request.free_text else null(),
        )
        .where(Rating.created_at >= start, Rating.created_at < end)
        .order_by(Rating.id)
    )

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        at, agency, service, channel, *scores, on_time, apology, papers, trips, how, paid, text = (
            values
        )
        return (
            at,
            *agencies[agency],
            *services[service],
            channels[channel],
            *scores,
            answers["timeliness"][on_time],
            answers["apology"][apology],
            answers["extra_papers"][papers],
            trips,
            answers["submission"][how],
            answers["payment"][paid],
            text,
        )

    async for batch in _batches(session, _in_scope(query, Rating.agency_id, request.agency_ids)):
        tables.rows(map(row, batch))
        if progress is not None:
            progress(len(batch))


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
    categories = Labels(lambda code: t(f"report.category_{code}"))
    yes, no = t("export.yes"), t("export.no")
    free = request.free_text
    query = (
        select(
            Report.id,
            Report.created_at,
            Report.category,
            Agency.code,
            Agency.name_vi,
            Official.code,
            Official.name,
            Report.occurred_on,
            Report.anonymous,
            Report.handle if request.pseudonyms else null(),
            Report.channel,
            Report.description if free else null(),
            Report.official_description if free else null(),
        )
        .join(Agency, Agency.id == Report.agency_id)
        .join(Official, Official.id == Report.official_id, isouter=True)
        .where(Report.created_at >= start, Report.created_at < end)
        .where(request.about_others(Report.official_id))
        .order_by(Report.id)
    )

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        id_, at, category, *where, occurred, anonymous, handle, channel, text, about = values
        shown = handle if anonymous else None  # a named report carries no handle to join
        return (id_, at, categories[category], *where, occurred, yes if anonymous else no,
                shown, channel, text, about)  # fmt: skip

    async for batch in _batches(session, _in_scope(query, Report.agency_id, request.agency_ids)):
        tables.rows(map(row, batch))


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
    states = Labels(lambda code: t(f"state.{code}"))
    flags = Labels(lambda code: t(f"flag.{code}"))
    outcomes = Labels(lambda code: t(f"outcome.{code}"))
    query = (
        select(
            Case.id,
            Case.report_id,
            Agency.code,
            Case.state,
            Case.flag_reason,
            Case.created_at,
            Case.ack_due,
            Case.decide_due,
            Case.acknowledged_at,
            Case.decided_at,
            Case.closed_at,
            Case.outcome,
        )
        .join(Agency, Agency.id == Case.agency_id)
        .join(Report, Report.id == Case.report_id)
        .where(Case.created_at >= start, Case.created_at < end)
        .where(request.about_others(Report.official_id))
        .order_by(Case.id)
    )

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        case, report, agency, state, flag, *times, outcome = values
        return (case, report, agency, states[state], flags[flag], *times, outcomes[outcome])

    async for batch in _batches(session, _in_scope(query, Case.agency_id, request.agency_ids)):
        tables.rows(map(row, batch))
    await _events(session, tables, request, t, start, end, states)


async def _events(
    session: AsyncSession,
    tables: Tables,
    request: ExportRequest,
    t: Texts,
    start: datetime,
    end: datetime,
    states: Labels,
) -> None:
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
    actors = Labels(lambda code: t(f"export.actor_{code}"))
    actions = Labels(lambda code: t(f"officer.event_{code}"))
    query = (
        select(
            CaseEvent.case_id,
            CaseEvent.at,
            CaseEvent.actor,
            CaseEvent.action,
            CaseEvent.from_state,
            CaseEvent.to_state,
            CaseEvent.text if request.free_text else null(),
        )
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Report, Report.id == Case.report_id)
        .where(Case.created_at >= start, Case.created_at < end)
        .where(request.about_others(Report.official_id))
        .order_by(CaseEvent.id)
    )

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        case, at, actor, action, before, after, text = values
        return (case, at, actors[actor], actions[action], states[before], states[after], text)

    async for batch in _batches(session, _in_scope(query, Case.agency_id, request.agency_ids)):
        tables.rows(map(row, batch))


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
        select(
            Official.code,
            Official.name,
            Agency.code,
            Assignment.new_post,
            Assignment.effective_on,
            Assignment.decision_number,
            Assignment.case_id,
            Assignment.recorded_at,
        )
        .join(Official, Official.id == Assignment.official_id)
        .join(Agency, Agency.id == Official.agency_id)
        .where(Assignment.recorded_at >= start, Assignment.recorded_at < end)
        .where(request.about_others(Assignment.official_id))
        .order_by(Assignment.id)
    )
    async for batch in _batches(session, _in_scope(query, Official.agency_id, request.agency_ids)):
        tables.rows(batch)


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
    names = await _codes_and_names(session, Agency if by == "agency" else Service)
    rows = []
    for key, values in sorted(sums.items(), key=lambda item: names.get(item[0], ("", ""))):
        i = Indicators.from_sums(values)
        rows.append(
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
    tables.rows(rows)


def open_tables(path: Path, file_format: str) -> Tables:
    return XlsxTables(path) if file_format == "xlsx" else CsvZipTables(path)


def export_maker(database_url: str) -> Callable[[dict[str, Any]], Awaitable[OutgoingFile]]:
    """The runtime's maker of "export" files for /export in chat: the whole export runs in a
    worker thread, so the bot keeps answering everyone else while a year is written."""

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
        content = await asyncio.to_thread(export_bytes, database_url, request, file_format)
        suffix = ".xlsx" if file_format == "xlsx" else ".zip"
        name = f"phan-anh-danh-gia-{params['start']}-{params['end']}{suffix}"
        return OutgoingFile(name, XLSX if file_format == "xlsx" else "application/zip", content)

    return make


def export_bytes(database_url: str, request: ExportRequest, file_format: str) -> bytes:
    """The export file, made on an event loop and a read engine of the calling thread's own
    (a connection belongs to the loop that opened it)."""
    return asyncio.run(_export_bytes(database_url, request, file_format))


async def _export_bytes(database_url: str, request: ExportRequest, file_format: str) -> bytes:
    reader = make_engine(database_url, for_reading=True)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "export"
            tables = open_tables(path, file_format)
            await write_export(async_sessionmaker(reader), tables, request)
            tables.close()
            return path.read_bytes()
    finally:
        await reader.dispose()
