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
import multiprocessing
import tempfile
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

import xlsxwriter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.admin.summary import structure_day
from handlers.citizen.rating import QUESTIONS
from handlers.clock import local_day, system_clock
from handlers.indicators import FACTORS, HEADLINE_SECTOR, Indicators
from handlers.lineage import Lineage, heir, load_lineage, retired, roll_up
from handlers.messages import OutgoingFile
from handlers.periods import Period
from handlers.texts import Texts
from storage import exports, summaries
from storage.db import make_engine
from storage.directory import SECTORS
from storage.exports import Scope
from storage.models import Agency, Service

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Progress = Callable[[int], None]
Converter = Callable[[Any], Any]
T = TypeVar("T")


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
    as_of: date | None = None
    """The day whose structure each row's unit is read in (None: today's)."""

    def scope(self) -> Scope:
        start, end = self.period.bounds()
        return Scope(start, end, self.agency_ids, self.hidden_official)


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


UNIT_COLUMNS = {
    "agency_code": "label",
    "agency": "label",
    "agency_as_of_code": "label",
    "agency_as_of": "label",
    "agency_as_of_status": "label",
}
"""The unit a row is about, as it was, and the unit it belongs to in the structure read."""


@dataclass(slots=True)
class _Export:
    """What every sheet of one export writes with: the session, the file, the request, the
    catalog, and each agency's `UNIT_COLUMNS` cells, looked up once."""

    session: AsyncSession
    tables: Tables
    request: ExportRequest
    t: Texts
    as_of: date
    lineage: dict[int, Lineage]
    units: dict[int, tuple[str | None, ...]]

    def start(self, name: str, columns: dict[str, str]) -> None:
        """Begin a sheet; each column key stands beside its cell kind, so the two cannot
        drift."""
        day = f"{self.as_of:%d/%m/%Y}"
        headers = [self.t(f"export.col_{key}", day=day) for key in columns]
        self.tables.sheet(self.t(f"export.sheet_{name}"), headers, list(columns.values()))

    async def sheet(
        self,
        name: str,
        columns: dict[str, str],
        batches: AsyncIterator[Sequence[Any]],
        row: Callable[[Sequence[Any]], Sequence[Any]],
        progress: Progress | None = None,
    ) -> None:
        """A sheet of streamed rows, each labelled by `row`."""
        self.start(name, columns)
        async for batch in batches:
            self.tables.rows(map(row, batch))
            if progress is not None:
                progress(len(batch))

    def labels(self, prefix: str) -> Labels:
        """Labels of a stored code from the catalog keys `prefix` + code."""
        return Labels(lambda code: self.t(f"{prefix}{code}"), self.tables.safe)


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
    as_of = request.as_of or local_day(system_clock())
    async with sessions() as session:
        lineage = await load_lineage(session)
        agencies = await _codes_and_names(session, tables, Agency)
        export = _Export(
            session,
            tables,
            request,
            t,
            as_of,
            lineage,
            _units(t, tables, agencies, lineage, as_of),
        )
        await _ratings(export, progress)
        await _reports(export)
        states = await _cases(export)
        await _events(export, states)
        await _reassignments(export)
        await _agency_summary(export, agencies)
        await _service_summary(export)


def _units(
    t: Texts,
    tables: Tables,
    agencies: dict[int, tuple[str, str]],
    lineage: dict[int, Lineage],
    as_of: date,
) -> dict[int, tuple[str | None, ...]]:
    """Each agency's `UNIT_COLUMNS`: itself, and its heir on day `as_of` with a mark when it
    was merged into it or, gone without a successor (a district), is left unmapped."""
    merged = tables.safe(t("export.unit_merged"))
    unmapped = tables.safe(t("export.unit_unmapped"))
    units: dict[int, tuple[str | None, ...]] = {}
    for agency_id, own in agencies.items():
        into = heir(agency_id, as_of, lineage)
        mark = (
            merged
            if into != agency_id
            else unmapped
            if retired(agency_id, as_of, lineage)
            else None
        )
        units[agency_id] = (*own, *agencies[into], mark)
    return units


async def _codes_and_names(
    session: AsyncSession, tables: Tables, table: type[Agency] | type[Service]
) -> dict[int, tuple[str, str]]:
    """Every agency's or service's code and name, as labels."""
    found = await exports.codes_and_names(table, session=session)
    return {id_: (tables.safe(code), tables.safe(name)) for id_, (code, name) in found.items()}


async def _ratings(export: _Export, progress: Progress | None) -> None:
    columns = {
        "date": "datetime",
        **UNIT_COLUMNS,
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
    units, t, safe = export.units, export.t, export.tables.safe
    services = await _codes_and_names(export.session, export.tables, Service)
    # What the citizen saw for each option, not its stored code.
    answers = {q.field: Labels(lambda code, q=q: t(q.label_key(code)), safe) for q in QUESTIONS}
    channels = Labels(str, safe)

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        at, agency, service, channel, *scores, on_time, apology, papers, trips, how, paid, text = (
            values
        )
        return (
            at,
            *units[agency],
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

    request = export.request
    rows = exports.rating_rows(
        request.scope(), free_text=request.free_text, session=export.session
    )
    await export.sheet("ratings", columns, rows, row, progress)


async def _reports(export: _Export) -> None:
    columns = {
        "report": "int",
        "date": "datetime",
        "category": "label",
        **UNIT_COLUMNS,
        "official_code": "text",
        "official": "text",
        "occurred_on": "date",
        "anonymous": "label",
        "citizen": "text",
        "channel": "text",
        "description": "text",
        "official_description": "text",
    }
    categories, units, t = export.labels("report.category_"), export.units, export.t
    yes, no = export.tables.safe(t("export.yes")), export.tables.safe(t("export.no"))

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        id_, at, category, agency, *who, occurred, anonymous, handle, channel, text, about = values
        shown = handle if anonymous else None  # a named report carries no handle to join
        return (id_, at, categories[category], *units[agency], *who, occurred,
                yes if anonymous else no, shown, channel, text, about)  # fmt: skip

    request = export.request
    rows = exports.report_rows(
        request.scope(),
        free_text=request.free_text,
        pseudonyms=request.pseudonyms,
        session=export.session,
    )
    await export.sheet("reports", columns, rows, row)


async def _cases(export: _Export) -> Labels:
    """The cases' sheet; returns the labels of states, which the events' sheet shares."""
    columns = {
        "case": "int",
        "report": "int",
        **UNIT_COLUMNS,
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
    states, flags, outcomes = (export.labels(p) for p in ("state.", "flag.", "outcome."))
    units = export.units

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        case, report, agency, state, flag, *times, outcome = values
        return (case, report, *units[agency], states[state], flags[flag], *times,
                outcomes[outcome])  # fmt: skip

    rows = exports.case_rows(export.request.scope(), session=export.session)
    await export.sheet("cases", columns, rows, row)
    return states


async def _events(export: _Export, states: Labels) -> None:
    columns = {
        "case": "int",
        "at": "datetime",
        "actor": "label",
        "action": "label",
        "from_state": "label",
        "to_state": "label",
        "text": "text",
    }
    actors, actions = export.labels("export.actor_"), export.labels("officer.event_")

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        case, at, actor, action, before, after, text = values
        return (case, at, actors[actor], actions[action], states[before], states[after], text)

    request = export.request
    rows = exports.event_rows(request.scope(), free_text=request.free_text, session=export.session)
    await export.sheet("events", columns, rows, row)


async def _reassignments(export: _Export) -> None:
    columns = {
        "official_code": "text",
        "official": "text",
        **UNIT_COLUMNS,
        "measure": "text",
        "new_post": "text",
        "effective_on": "date",
        "decision_number": "text",
        "case": "int",
        "recorded": "datetime",
    }
    measures, units = export.labels("measure."), export.units

    def row(values: Sequence[Any]) -> tuple[Any, ...]:
        code, name, agency, measure, *rest = values
        return (code, name, *units[agency], measures[measure], *rest)

    rows = exports.reassignment_rows(export.request.scope(), session=export.session)
    await export.sheet("reassignments", columns, rows, row)


_RATES = {
    "ratings": "int",
    "overall": "percent",
    **{f"index_{f}": "percent" for f in FACTORS},
    "on_time": "percent",
    "apology_when_late": "percent",
    "extra_papers_rate": "percent",
    "three_trips": "percent",
    "remote": "percent",
    "payment_rate": "percent",
}


def _rates(sums: Mapping[str, int]) -> list[Any]:
    """The `_RATES` cells of a summary row."""
    i = Indicators.from_sums(sums)
    return [
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


async def _sector_sums(export: _Export, by: str) -> dict[str, dict[int | None, dict[str, int]]]:
    """Per sector, the headline's first (health and education stand apart from
    administrative procedures): the roll-up sums by agency or by service."""
    period, found = export.request.period, {}
    for sector in sorted(SECTORS, key=lambda s: s != HEADLINE_SECTOR):
        found[sector] = await summaries.rating_sums(
            period.start,
            period.end,
            by=by,
            agency_ids=export.request.agency_ids,
            sector=sector,
            session=export.session,
        )
    return {sector: sums for sector, sums in found.items() if sums}


async def _agency_summary(export: _Export, agencies: dict[int, tuple[str, str]]) -> None:
    """Per sector, the scope's row then one per agency of the structure read: a merged unit's
    figures count under its successor, whose row names the units it took over."""
    columns = {
        "sector": "label",
        "agency_as_of_code": "label",
        "agency_as_of": "label",
        "agency_as_of_status": "label",
        "merged_from": "label",
        **_RATES,
    }
    export.start("summary", columns)
    sectors, everyone = export.labels("summary.sector_"), export.t("export.all_in_scope")
    as_of, lineage = export.as_of, export.lineage
    rows: list[list[Any]] = []
    for sector, sums in (await _sector_sums(export, "agency")).items():
        whole = summaries.total(sums.values())
        rows.append(
            [sectors[sector], None, export.tables.safe(everyone), None, None, *_rates(whole)]
        )
        taken: dict[int, list[str]] = {}
        for agency_id in sums:
            if agency_id is not None and (into := heir(agency_id, as_of, lineage)) != agency_id:
                taken.setdefault(into, []).append(agencies[agency_id][0])
        rolled = roll_up({a: v for a, v in sums.items() if a is not None}, as_of, lineage)
        for agency_id in sorted(rolled, key=lambda a: agencies[a]):
            code, name, *_, mark = export.units[agency_id]
            merged = ", ".join(sorted(taken.get(agency_id, []))) or None
            rows.append([sectors[sector], code, name, mark, merged, *_rates(rolled[agency_id])])
    export.tables.rows(rows)


async def _service_summary(export: _Export) -> None:
    """One row of indicators per service, the headline sector's first."""
    columns = {"sector": "label", "service_code": "label", "service": "label", **_RATES}
    export.start("summary_services", columns)
    sectors = export.labels("summary.sector_")
    names = await _codes_and_names(export.session, export.tables, Service)
    export.tables.rows(
        [sectors[sector], *names.get(key or 0, ("", "")), *_rates(values)]
        for sector, sums in (await _sector_sums(export, "service")).items()
        for key, values in sorted(sums.items(), key=lambda item: names.get(item[0] or 0, ("", "")))
    )


def open_tables(path: Path, file_format: str, sheet: str | None = None) -> Tables:
    """Where an export goes: an XLSX, a ZIP of CSVs, or one table (`sheet`) as a plain CSV."""
    if sheet is not None:
        return CsvTable(path, sheet)
    return XlsxTables(path) if file_format == "xlsx" else CsvZipTables(path)


def export_maker(database_url: str) -> Callable[[dict[str, Any]], Awaitable[OutgoingFile]]:
    """The runtime's maker of "export" files for /export in chat: the whole export runs in a
    process of its own (`in_own_process`), so the bot keeps answering everyone else while
    a year is written."""

    async def make(params: dict[str, Any]) -> OutgoingFile:
        request = ExportRequest(
            Period(date.fromisoformat(params["start"]), date.fromisoformat(params["end"])),
            params.get("agency_ids"),
            free_text=False,
            locale=params.get("locale", "vi"),
            pseudonyms=bool(params.get("pseudonyms", False)),
            hidden_official=params.get("hidden_official"),
            as_of=structure_day(params),
        )
        file_format = params.get("format", "xlsx")
        content = await in_own_process(export_bytes, database_url, request, file_format)
        suffix = ".xlsx" if file_format == "xlsx" else ".zip"
        name = f"phan-anh-danh-gia-{params['start']}-{params['end']}{suffix}"
        return OutgoingFile(name, XLSX if file_format == "xlsx" else "application/zip", content)

    return make


async def in_own_process(work: Callable[..., T], *args: Any) -> T:
    """`work(*args)` in a new Python process (spawned, not forked: the bot's threads hold locks
    a forked child would inherit). Writing an export's cells is pure Python from start to end;
    in a worker thread it held the interpreter's lock nearly all the time, and each turn, whose
    every statement crosses to the database's thread and back, waited for the lock at each
    crossing (bench.export_stall: other chats' replies 2–3 s)."""
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, work, *args)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


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
