"""Exports for Home Affairs: ratings, reports, cases with their events, reassignments and the
summary, as XLSX (one sheet each) or CSV (a ZIP of one UTF-8-with-BOM file each).

The rows come from `storage.exports` in chunks of plain tuples; here they are labelled (names and
labels looked up once per export, not per row) and written as they come (XlsxWriter's
constant-memory mode; csv into the ZIP member), so memory stays flat however many rows there are.
An anonymous reporter appears only as the report's own handle (two reports of one person share
nothing) and ratings name nobody; free text only when asked for. In a CSV, text that a
spreadsheet would run as a formula (= + - @ and tab or return first) gets a leading apostrophe;
an XLSX cell written as text is never a formula, so it keeps the text as it is.
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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.citizen.rating import QUESTIONS
from handlers.clock import local_day, system_clock
from handlers.indicators import FACTORS, Indicators
from handlers.lineage import Lineage, heir
from handlers.messages import OutgoingFile
from handlers.periods import Period
from handlers.texts import Texts
from storage import exports, summaries
from storage.agencies import lineage_rows
from storage.db import make_engine
from storage.exports import Scope
from storage.models import Agency, Service

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Progress = Callable[[int], None]
Converter = Callable[[Any], Any]


def neutralise(value: str) -> str:
    """Text a spreadsheet would take for a formula gets a leading apostrophe."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _converted(row: Sequence[Any], converters: Sequence[tuple[int, Converter]]) -> Sequence[Any]:
    """The row with each converted column replaced (None stays None); copied only when a cell
    changes, as most rows have nothing to convert."""
    cells: list[Any] | None = None
    for column, convert in converters:
        value = row[column]
        if value is not None and (changed := convert(value)) is not value:
            if cells is None:
                cells = list(row)
            cells[column] = changed
    return row if cells is None else cells


class Tables(Protocol):
    """Where an export's tables go. A column's kind says how its cells are written: "text"
    is made safe cell by cell; "label" came through `Labels` (or `_codes_and_names`), made
    safe once per export; "datetime" is the province's wall-clock time as text
    ("2026-11-30 09:05"); "date" a day."""

    def safe(self, value: str) -> str:
        """The text as a cell of this format shows it and never runs it."""
        ...

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

    def safe(self, value: str) -> str:
        """Unchanged: a string cell holds text, whatever its first character."""
        return value

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
        if kind == "datetime":
            return lambda row, column, value: sheet.write_datetime(
                row, column, datetime.fromisoformat(value), style
            )
        if kind == "date":
            return lambda row, column, value: sheet.write_datetime(row, column, value, style)
        if kind in ("text", "label"):
            return sheet.write_string
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


_CSV_CONVERTERS: dict[str, Converter] = {"text": neutralise, "date": date.isoformat}


TABLES = ("ratings", "reports", "cases", "events", "reassignments", "summary", "summary_services")
"""The tables of an export, by the key of their sheet name in the catalogs."""


def _csv_converters(kinds: Sequence[str]) -> list[tuple[int, Converter]]:
    return [
        (column, _CSV_CONVERTERS[kind])
        for column, kind in enumerate(kinds)
        if kind in _CSV_CONVERTERS
    ]


def _csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode()


class CsvZipTables:
    """A ZIP with one CSV per table, UTF-8 with BOM so spreadsheet programs show Vietnamese.

    A chunk of rows is written to text at once and compressed at level 1: a CSV shrinks nearly
    as much as at the default level, several times faster."""

    def __init__(self, path: Path) -> None:
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self._member: IO[bytes] | None = None
        self._converters: list[tuple[int, Converter]] = []

    def safe(self, value: str) -> str:
        return neutralise(value)

    def sheet(self, name: str, headers: Sequence[str], kinds: Sequence[str]) -> None:
        self._end_sheet()
        self._member = self._zip.open(f"{name}.csv", "w")
        self._member.write(codecs.BOM_UTF8)
        self._write([headers])
        self._converters = _csv_converters(kinds)

    def rows(self, rows: Iterable[Sequence[Any]]) -> None:
        converters = self._converters
        self._write((_converted(row, converters) for row in rows) if converters else rows)

    def _write(self, rows: Iterable[Sequence[Any]]) -> None:
        assert self._member is not None, "a sheet comes first"
        self._member.write(_csv_bytes(rows))

    def _end_sheet(self) -> None:
        if self._member is not None:
            self._member.close()
            self._member = None

    def close(self) -> None:
        self._end_sheet()
        self._zip.close()


class CsvTable:
    """One table of the export as a plain CSV file (UTF-8 with BOM); the others are skipped,
    for an operator who wants, say, only the ratings in a spreadsheet."""

    def __init__(self, path: Path, sheet_name: str) -> None:
        self._file = path.open("wb")
        self._wanted = sheet_name
        self._converters: list[tuple[int, Converter]] | None = None

    def safe(self, value: str) -> str:
        return neutralise(value)

    def sheet(self, name: str, headers: Sequence[str], kinds: Sequence[str]) -> None:
        self._converters = None
        if name == self._wanted:
            self._converters = _csv_converters(kinds)
            self._file.write(codecs.BOM_UTF8 + _csv_bytes([headers]))

    def rows(self, rows: Iterable[Sequence[Any]]) -> None:
        converters = self._converters
        if converters is not None:
            self._file.write(_csv_bytes(_converted(row, converters) for row in rows))

    def close(self) -> None:
        self._file.close()


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

    def scope(self) -> Scope:
        start, end = self.period.bounds()
        return Scope(start, end, self.agency_ids, self.hidden_official)


def _start_sheet(tables: Tables, t: Texts, name: str, columns: dict[str, str]) -> None:
    """Begin a sheet; each column key stands beside its cell kind, so the two cannot drift."""
    headers = [t(f"export.col_{key}") for key in columns]
    tables.sheet(t(f"export.sheet_{name}"), headers, list(columns.values()))


class Labels(dict[Any, str | None]):
    """Labels of stored codes, each looked up (and made safe for the file) once per export
    rather than per row."""

    def __init__(self, label: Callable[[Any], str], safe: Callable[[str], str]) -> None:
        super().__init__()
        self._label = label
        self._safe = safe

    def __missing__(self, code: Any) -> str | None:
        value = self[code] = None if code is None else self._safe(self._label(code))
        return value


async def count_rows(session: AsyncSession, request: ExportRequest) -> int:
    """How many rating rows an export will write (for the progress bar)."""
    return await exports.rating_count(request.scope(), session=session)


async def write_export(
    sessions: async_sessionmaker[AsyncSession],
    tables: Tables,
    request: ExportRequest,
    progress: Progress | None = None,
) -> None:
    """Write every table of the export, streaming."""
    t = Texts(request.locale)
    async with sessions() as session:
        await _ratings(session, tables, request, t, progress)
        await _reports(session, tables, request, t)
        states = await _cases(session, tables, request, t)
        await _events(session, tables, request, t, states)
        await _reassignments(session, tables, request, t)
        await _summary(session, tables, request, t, by="agency")
        await _summary(session, tables, request, t, by="service")


async def _codes_and_names(
    session: AsyncSession, tables: Tables, table: type[Agency] | type[Service]
) -> dict[int, tuple[str, str]]:
    """Every agency's or service's code and name, as labels."""
    found = await exports.codes_and_names(table, session=session)
    return {id_: (tables.safe(code), tables.safe(name)) for id_, (code, name) in found.items()}


async def _write(
    tables: Tables,
    batches: AsyncIterator[Sequence[Any]],
    row: Callable[[Sequence[Any]], Sequence[Any]] | None = None,
    progress: Progress | None = None,
) -> None:
    """Every batch into the current sheet, each row labelled by `row` if given."""
    async for batch in batches:
        tables.rows(batch if row is None else map(row, batch))
        if progress is not None:
            progress(len(batch))


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
        "agency_today_code": "label",
        "agency_today": "label",
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
    agencies = await _codes_and_names(session, tables, Agency)
    services = await _codes_and_names(session, tables, Service)
    # The unit as rated, and the one it counts under in today's structure.
    today = local_day(system_clock())
    lineage = {a: Lineage(s, f, u) for a, s, f, u in await lineage_rows(session=session)}
    heirs = {a: agencies[heir(a, today, lineage)] for a in agencies}
    # What the citizen saw for each option, not its stored code.
    answers = {
        q.field: Labels(lambda code, q=q: t(q.label_key(code)), tables.safe) for q in QUESTIONS
    }
    channels = Labels(str, tables.safe)

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        at, agency, service, channel, *scores, on_time, apology, papers, trips, how, paid, text = (
            values
        )
        return (
            at,
            *agencies[agency],
            *heirs[agency],
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

    rows = exports.rating_rows(request.scope(), free_text=request.free_text, session=session)
    await _write(tables, rows, row, progress)


async def _reports(
    session: AsyncSession, tables: Tables, request: ExportRequest, t: Texts
) -> None:
    columns = {
        "report": "int",
        "date": "datetime",
        "category": "label",
        "agency_code": "text",
        "agency": "text",
        "official_code": "text",
        "official": "text",
        "occurred_on": "date",
        "anonymous": "label",
        "citizen": "text",
        "channel": "text",
        "description": "text",
        "official_description": "text",
    }
    _start_sheet(tables, t, "reports", columns)
    categories = Labels(lambda code: t(f"report.category_{code}"), tables.safe)
    yes, no = tables.safe(t("export.yes")), tables.safe(t("export.no"))

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        id_, at, category, *where, occurred, anonymous, handle, channel, text, about = values
        shown = handle if anonymous else None  # a named report carries no handle to join
        return (id_, at, categories[category], *where, occurred, yes if anonymous else no,
                shown, channel, text, about)  # fmt: skip

    rows = exports.report_rows(
        request.scope(),
        free_text=request.free_text,
        pseudonyms=request.pseudonyms,
        session=session,
    )
    await _write(tables, rows, row)


async def _cases(
    session: AsyncSession, tables: Tables, request: ExportRequest, t: Texts
) -> Labels:
    """The cases' sheet; returns the labels of states, which the events' sheet shares."""
    columns = {
        "case": "int",
        "report": "int",
        "agency_code": "text",
        "state": "label",
        "flag": "label",
        "opened": "datetime",
        "ack_due": "datetime",
        "decide_due": "datetime",
        "acknowledged": "datetime",
        "decided": "datetime",
        "closed": "datetime",
        "outcome": "label",
    }
    _start_sheet(tables, t, "cases", columns)
    states = Labels(lambda code: t(f"state.{code}"), tables.safe)
    flags = Labels(lambda code: t(f"flag.{code}"), tables.safe)
    outcomes = Labels(lambda code: t(f"outcome.{code}"), tables.safe)

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        case, report, agency, state, flag, *times, outcome = values
        return (case, report, agency, states[state], flags[flag], *times, outcomes[outcome])

    await _write(tables, exports.case_rows(request.scope(), session=session), row)
    return states


async def _events(
    session: AsyncSession, tables: Tables, request: ExportRequest, t: Texts, states: Labels
) -> None:
    columns = {
        "case": "int",
        "at": "datetime",
        "actor": "label",
        "action": "label",
        "from_state": "label",
        "to_state": "label",
        "text": "text",
    }
    _start_sheet(tables, t, "events", columns)
    actors = Labels(lambda code: t(f"export.actor_{code}"), tables.safe)
    actions = Labels(lambda code: t(f"officer.event_{code}"), tables.safe)

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        case, at, actor, action, before, after, text = values
        return (case, at, actors[actor], actions[action], states[before], states[after], text)

    rows = exports.event_rows(request.scope(), free_text=request.free_text, session=session)
    await _write(tables, rows, row)


async def _reassignments(
    session: AsyncSession, tables: Tables, request: ExportRequest, t: Texts
) -> None:
    columns = {
        "official_code": "text",
        "official": "text",
        "agency_code": "text",
        "measure": "text",
        "new_post": "text",
        "effective_on": "date",
        "decision_number": "text",
        "case": "int",
        "recorded": "datetime",
    }
    _start_sheet(tables, t, "reassignments", columns)
    measures = Labels(lambda code: t(f"measure.{code}"), tables.safe)

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        code, name, agency, measure, *rest = values
        return (code, name, agency, measures[measure], *rest)

    await _write(tables, exports.reassignment_rows(request.scope(), session=session), row)


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
    columns = {f"{by}_code": "label", by: "label", "ratings": "int"}
    columns |= dict.fromkeys(_RATES, "percent")
    _start_sheet(tables, t, "summary" if by == "agency" else "summary_services", columns)
    period = request.period
    sums = await summaries.rating_sums(
        period.start, period.end, by=by, agency_ids=request.agency_ids, session=session
    )
    names = await _codes_and_names(session, tables, Agency if by == "agency" else Service)
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


def open_tables(path: Path, file_format: str, sheet: str | None = None) -> Tables:
    """Where an export goes: an XLSX, a ZIP of CSVs, or one table (`sheet`) as a plain CSV."""
    if sheet is not None:
        return CsvTable(path, sheet)
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
    """The export file's content (see `export_file`)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export"
        export_file(database_url, request, file_format, path)
        return path.read_bytes()


def export_file(
    database_url: str,
    request: ExportRequest,
    file_format: str,
    path: Path,
    sheet: str | None = None,
) -> None:
    """Write the export to `path` (one table as a plain CSV when `sheet` names it), on an event
    loop and a read engine of the calling thread's own (a connection belongs to the loop that
    opened it): run it in a worker thread."""
    asyncio.run(_export_file(database_url, request, file_format, path, sheet))


async def _export_file(
    database_url: str, request: ExportRequest, file_format: str, path: Path, sheet: str | None
) -> None:
    reader = make_engine(database_url, for_reading=True)
    tables = open_tables(path, file_format, sheet)
    try:
        await write_export(async_sessionmaker(reader), tables, request)
    finally:
        tables.close()
        await reader.dispose()
