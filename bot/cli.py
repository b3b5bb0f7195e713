"""The `feedbackbot` command line (typer): run the bot, chat in the terminal, manage data."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import asdict
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    import uvicorn
    from pydantic import SecretStr
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
    from starlette.applications import Starlette

    from bot.channels.base import Channel
    from bot.channels.telegram import TelegramChannel
    from bot.channels.zalo import ZaloChannel
    from bot.config import Settings
    from bot.runtime import Runtime
    from handlers.admin.summary import Summary
    from handlers.flow import Turn
    from handlers.indicators import Ranked
    from handlers.periods import Period
    from handlers.texts import Texts
    from storage.directory import ImportResult
    from storage.models import Agency
    from storage.officers import RosterEntry


log = logging.getLogger(__name__)
app = typer.Typer(
    help="feedbackbot: citizens rate public services by chat.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback's locals would print secrets
)
directory_app = typer.Typer(help="The directory of agencies, officials and services.")
db_app = typer.Typer(help="The database schema.")
app.add_typer(directory_app, name="directory")
officers_app = typer.Typer(help="Officers who handle reports in chat.")
demo_app = typer.Typer(help="Synthetic data for trying the summaries.")
app.add_typer(demo_app, name="demo")
app.add_typer(db_app, name="db")
app.add_typer(officers_app, name="officers")
keys_app = typer.Typer(help="The keys that protect stored messenger ids.")
app.add_typer(keys_app, name="keys")


OUR_LOGGERS = ("bot", "handlers", "storage")


def _settings() -> Settings:
    """The settings, or one line per problem and exit code 1: the one place every command
    reads them, so no command prints a traceback that could echo a secret."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from bot.config import Settings, settings_problems

    try:
        settings = Settings()
    except ValidationError as error:
        _refuse_settings(settings_problems(error))
    except SettingsError as error:
        _refuse_settings([str(error)])
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(settings.log_level.upper())
    # The limiter logs every 429 as an error with a traceback; the dispatcher retries it and
    # logs a warning of its own, so that line would only alarm the operator.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    return settings


@app.callback()
def options(
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also show the libraries' informational log lines.")
    ] = False,
) -> None:
    """Options for every command, given before its name (feedbackbot --verbose db upgrade).
    The libraries' lines (Alembic, httpx, …) show only from WARNING on unless --verbose; our
    own follow LOG_LEVEL."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _refuse_settings(problems: list[str]) -> NoReturn:
    t = _texts()
    for problem in problems:
        print(t("cli.settings_invalid", problem=problem))
    raise typer.Exit(1)


def _refuse_in_production(settings: Settings, key: str) -> None:
    """Stop here in ENV=production, saying why in one line (exit code 1)."""
    if settings.production:
        print(_texts()(key))
        raise typer.Exit(1)


def _say_in_every_language(key: str) -> None:
    from handlers.texts import LOCALES, Texts

    for locale in LOCALES:
        print(Texts(locale)(key))


def _texts() -> Texts:
    """The operator's language, from the locale of the shell (Vietnamese unless it is English)."""
    from handlers.texts import Texts, pick_locale

    return Texts(pick_locale(os.environ.get("LANG", "").replace("_", "-")))


def _run(main: object) -> None:
    """Run a coroutine; turn the known start-up failures into a message and exit code 1."""
    from bot.runtime import DirectoryEmpty
    from storage.directory import DirectoryError, DirectoryInUse
    from storage.identity import UnreadableId
    from storage.schema import UPGRADE_COMMAND, SchemaOutdated

    t = _texts()
    try:
        asyncio.run(main)  # type: ignore[arg-type]
    except SchemaOutdated as error:
        print(
            t(
                "cli.schema_outdated",
                current=error.current,
                needed=error.needed,
                command=UPGRADE_COMMAND,
            )
        )
        raise typer.Exit(1) from error
    except DirectoryInUse as error:
        print(t("cli.directory_in_use", codes=error))
        raise typer.Exit(1) from error
    except DirectoryError as error:
        print(t("cli.directory_invalid", error=error))
        raise typer.Exit(1) from error
    except UnreadableId as error:
        print(t("cli.key_unreadable"))
        raise typer.Exit(1) from error
    except DirectoryEmpty as error:
        print(t("cli.directory_empty"))
        raise typer.Exit(1) from error
    except KeyboardInterrupt:
        pass


@app.command()
def run() -> None:
    """Serve every messenger that has a token; with none, chat in this terminal."""
    settings = _settings()
    if settings.telegram_token is None and settings.zalo_token is None:
        _refuse_in_production(settings, "cli.production_no_terminal")
        _say_in_every_language("console.no_token")
        _run(chat_in_terminal(settings, FILES))
    else:
        _run(serve_polling(settings))


FILES = Path("feedbackbot-files")


@app.command()
def chat(
    files: Annotated[
        Path, typer.Option(help="Where charts and exports sent in the chat are saved.")
    ] = FILES,
) -> None:
    """Chat with the bot in this terminal (options are numbered; type the number)."""
    settings = _settings()
    _refuse_in_production(settings, "cli.production_no_terminal")
    _run(chat_in_terminal(settings, files))


@app.command()
def diagrams() -> None:
    """Draw each conversation's Mermaid diagram from its step table, beside its module."""
    from handlers.diagrams import current

    for path, text in current().items():
        path.write_text(text, encoding="utf-8")
        print(_texts()("cli.diagram_written", path=os.path.relpath(path)))


@directory_app.command("import")
def directory_import(
    file: Annotated[Path, typer.Argument(help="A directory YAML file (see README).")],
    replace: Annotated[
        bool,
        typer.Option(
            help="Also delete the entries FILE does not list (the sample), if nothing uses them."
        ),
    ] = False,
    retire_unlisted: Annotated[
        bool,
        typer.Option(help="End today the entries FILE no longer lists (their history stays)."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option(help="Show what would be added, changed and retired; keep nothing.")
    ] = False,
) -> None:
    """Add, update and retire agencies, officials and services from FILE (safe to run again)."""
    _run(_import(_settings(), file, replace=replace, retire=retire_unlisted, dry_run=dry_run))


@directory_app.command("scaffold")
def directory_scaffold(
    province: Annotated[int, typer.Option(help="Today's province code, e.g. 51.")],
    output: Annotated[Path | None, typer.Option(help="Write here instead of printing it.")] = None,
) -> None:
    """Write a directory skeleton of today's PROVINCE from vietnam-provinces, to edit."""
    from storage.scaffold import UnknownProvince, library_version, scaffold_yaml

    t = _texts()
    try:
        text = scaffold_yaml(province, t("cli.scaffold_comment", source=library_version()))
    except UnknownProvince as error:
        print(t("cli.unknown_province", code=error))
        raise typer.Exit(1) from error
    if output is None:
        print(text, end="")
    else:
        output.write_text(text, encoding="utf-8")
        print(t("cli.written", path=output))


@directory_app.command("successors")
def directory_successors(
    file: Annotated[Path, typer.Argument(help="A directory file of a former structure.")],
    output: Annotated[
        Path | None, typer.Option(help="Write here instead of rewriting FILE.")
    ] = None,
) -> None:
    """Link FILE's units to today's with vietnamadminunits; list those it cannot map."""
    from storage.directory import DirectoryError, read_directory
    from storage.successors import find_successors, write_successors

    t = _texts()
    try:
        directory = read_directory(file)
    except DirectoryError as error:
        print(t("cli.directory_invalid", error=error))
        raise typer.Exit(1) from error
    found = find_successors(directory)
    write_successors(file, found.links, output or file)
    print(t("cli.successors_mapped", count=len(found.links), path=output or file))
    if found.unmapped:
        print(t("cli.successors_unmapped", count=len(found.unmapped)))
        for name in found.unmapped:
            print(f"  {name}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest version (back up the database first)."""
    _run(_upgrade(_settings()))


@db_app.command("copy")
def db_copy(
    source: Annotated[
        str, typer.Option("--from", help="The database to copy, a URL like DATABASE_URL.")
    ],
    target: Annotated[
        str, typer.Option("--to", help="An empty database (its schema is created), a URL.")
    ],
) -> None:
    """Copy a whole database into an empty one, e.g. SQLite to PostgreSQL (stop the bot first);
    checks the rows of every table. Ids stay sealed: the copy needs the same keys."""
    _run(_copy(_settings(), source, target))


async def _copy(settings: Settings, source_url: str, target_url: str) -> None:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from storage.copying import (
        CannotOpen,
        CountsDiffer,
        TargetNotEmpty,
        copy_database,
        open_database,
    )

    t = _texts()
    engines: list[AsyncEngine] = []
    try:
        for side, url in (("copy_source", source_url), ("copy_target", target_url)):
            try:
                engines.append(await open_database(url, source=side == "copy_source"))
            except CannotOpen as error:
                print(t("cli.copy_cannot_open", side=t(f"cli.{side}"), error=error))
                raise typer.Exit(1) from error
        source, target = engines
        with Progress(transient=True) as bar:
            task = bar.add_task("", total=None)
            counts = await copy_database(
                source,
                target,
                settings.identity_keys(),
                progress=lambda rows, total: bar.update(task, advance=rows, total=total),
            )
    except TargetNotEmpty as error:
        print(t("cli.copy_not_empty"))
        raise typer.Exit(1) from error
    except CountsDiffer as error:
        for count in error.counts:
            if count.source != count.target:
                print(t("cli.copy_counts_differ", **asdict(count)))
        raise typer.Exit(1) from error
    finally:
        for engine in engines:
            await engine.dispose()
    table = Table()
    for key in ("copy_table", "copy_source", "copy_target"):
        table.add_column(t(f"cli.{key}"), justify="left" if key == "copy_table" else "right")
    for count in counts:
        table.add_row(count.table, str(count.source), str(count.target))
    Console().print(table)
    print(t("cli.copied", rows=sum(c.target for c in counts), tables=len(counts)))


@keys_app.command("new")
def keys_new() -> None:
    """Print a fresh ENCRYPTION_KEY (for a new installation or a rotation)."""
    from storage.identity import new_encryption_key

    print(new_encryption_key())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-seal every stored messenger id with ENCRYPTION_KEY; the keys listed in
    ENCRYPTION_KEY_PREVIOUS must still open the old ones. Remove them afterwards."""
    _run(_rotate(_settings()))


async def _rotate(settings: Settings) -> None:
    from bot.runtime import prepare_database
    from storage.resealing import reseal_all

    db, sessions = await prepare_database(settings)
    try:
        async with sessions() as session, session.begin():
            counts = await reseal_all(session=session)
        print(_texts()("cli.keys_rotated", count=sum(counts.values())))
    finally:
        await db.dispose()


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


class Role(StrEnum):
    officer = "officer"
    leader = "leader"
    admin = "admin"


@officers_app.command("invite")
def officers_invite(
    agency: Annotated[str, typer.Argument(help="Agency code, e.g. 615-MC.")],
    role: Annotated[Role, typer.Option(help="leader receives new cases; admin sees all.")] = (
        Role.officer
    ),
    official: Annotated[
        str | None,
        typer.Option(
            help="The invitee's own official code, so no report about them ever reaches them."
        ),
    ] = None,
) -> None:
    """Print a single-use invite code and deep link (valid INVITE_DAYS days)."""
    _run(_invite(_settings(), agency, role.value, official))


async def _invite(
    settings: Settings, agency_code: str, role: str, official_code: str | None
) -> None:
    from bot.runtime import prepare_database
    from handlers.access import may_bind
    from handlers.clock import local_date_text, local_day, system_clock
    from handlers.links import invite_link
    from storage.agencies import agency_by_code
    from storage.directory import is_current
    from storage.officers import create_invite, official_by_code

    db, sessions = await prepare_database(settings)
    try:
        async with sessions() as session, session.begin():
            agency = await agency_by_code(agency_code, session=session)
            official = (
                await official_by_code(official_code, session=session) if official_code else None
            )
            if agency is None or agency.id is None:
                print(_texts()("summary.unknown_agency", code=agency_code))
                raise typer.Exit(1)
            if not is_current(agency.valid_from, agency.valid_to, local_day(system_clock())):
                print(_texts()("officer.agency_gone", agency=agency.name_vi))
                raise typer.Exit(1)
            if official_code and official is None:
                print(_texts()("cli.unknown_official", code=official_code))
                raise typer.Exit(1)
            if official is not None and not may_bind(official, agency.id):
                print(
                    _texts()(
                        "officer.official_elsewhere", code=official.code, agency=agency.name_vi
                    )
                )
                raise typer.Exit(1)
            invite = await create_invite(
                agency.id,
                role,
                official_id=official.id if official else None,
                now=system_clock(),
                valid_days=settings.invite_days,
                session=session,
            )
        print(
            _texts()(
                "cli.invite",
                code=invite.code,
                role=_texts()(f"role.{role}"),
                agency=agency.name_vi,
                until=local_date_text(invite.expires_at),
                link=invite_link(settings.telegram_bot_username, invite.code),
            )
        )
    finally:
        await db.dispose()


@officers_app.command("list")
def officers_list(
    agency: Annotated[
        str | None, typer.Argument(help="Agency code; every agency if left out.")
    ] = None,
) -> None:
    """Print the officers (active and revoked) with their ids, for `officers revoke`."""
    _run(_officers_list(_settings(), agency))


async def _officers_list(settings: Settings, agency_code: str | None) -> None:
    from storage.officers import roster

    t = _texts()
    db, sessions = await _reading(settings)
    try:
        async with sessions() as session:
            agency = await _agency_or_exit(agency_code, session=session)
            entries = await roster(agency.id if agency else None, session=session)
        print_roster(t, entries)
    finally:
        await db.dispose()


@officers_app.command("revoke")
def officers_revoke(
    officer_id: Annotated[int, typer.Argument(help="The officer's id from `officers list`.")],
) -> None:
    """End an officer's access at once; their history stays, a new invite can restore it."""
    _run(_revoke(_settings(), officer_id))


async def _revoke(settings: Settings, officer_id: int) -> None:
    from bot.runtime import prepare_database
    from handlers.clock import system_clock
    from storage.agencies import agency_by_id
    from storage.officers import officer_by_id, revoke

    t = _texts()
    db, sessions = await prepare_database(settings)
    try:
        async with sessions() as session, session.begin():
            officer = await officer_by_id(officer_id, session=session)
            if officer is None:
                print(t("cli.unknown_officer", id=officer_id))
                raise typer.Exit(1)
            changed = officer.active
            if changed:
                await revoke(officer, by="cli", now=system_clock(), session=session)
            agency = await agency_by_id(officer.agency_id, session=session)
        print(
            t(
                "cli.revoked" if changed else "cli.already_revoked",
                id=officer_id,
                role=t(f"role.{officer.role}"),
                agency=agency.name_vi if agency else "?",
            )
        )
    finally:
        await db.dispose()


@app.command()
def summary(
    period: Annotated[
        str | None,
        typer.Option(
            help="month, quarter, half, year, 2026-11, 2026-Q3, 2026-H1, 2026, or "
            "2026-01-01..2026-03-31; this month if it has ratings, else the month before."
        ),
    ] = None,
    agency: Annotated[
        str | None, typer.Option(help="An agency code; all agencies if left out.")
    ] = None,
    calendar: Annotated[
        bool,
        typer.Option(
            "--calendar",
            help="Calendar months, quarters and years instead of the reporting periods of "
            "Decree 09/2019 (REPORTING_CUTOFF_DAY).",
        ),
    ] = False,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Read the figures in the structure of this day (default: today's).",
        ),
    ] = None,
) -> None:
    """Print the indicators of a period, as /summary does in chat."""
    _run(_summary(_settings(), period, agency, calendar, as_of.date() if as_of else None))


def _today() -> date:
    from handlers.clock import local_day, system_clock

    return local_day(system_clock())


def _period_or_exit(text: str, cutoff: int | None = None) -> Period:
    """The period a command-line option names (calendar periods unless `cutoff` is a reporting
    cut-off day); anything else ends the command (exit code 1)."""
    from handlers.periods import parse_period

    period = parse_period(text, _today(), cutoff)
    if period is None:
        print(_texts()("cli.period_usage", text=text[:40]))
        raise typer.Exit(1)
    return period


async def _reading(settings: Settings) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """Check the schema, then read through an engine that never holds up a running bot."""
    from bot.runtime import prepare_database
    from storage.db import make_engine, make_sessionmaker

    db, _ = await prepare_database(settings)
    await db.dispose()
    reader = make_engine(settings.database_url, for_reading=True)
    return reader, make_sessionmaker(reader, settings.identity_keys())


async def _agency_or_exit(code: str | None, *, session: AsyncSession) -> Agency | None:
    """The agency of an optional code; an unknown code ends the command with exit code 1."""
    from storage.agencies import agency_by_code

    if not code:
        return None
    agency = await agency_by_code(code, session=session)
    if agency is None:
        print(_texts()("summary.unknown_agency", code=code))
        raise typer.Exit(1)
    return agency


async def _summary(
    settings: Settings,
    period_text: str | None,
    agency_code: str | None,
    calendar: bool,
    as_of: date | None,
) -> None:
    from handlers.admin.summary import build_summary, scope_label, summary_text
    from handlers.clock import system_clock
    from handlers.periods import parse_period

    t = _texts()
    cutoff = None if calendar else settings.reporting_cutoff_day
    this_month = parse_period("month", _today(), cutoff)
    assert this_month is not None, "today is a day of some month"
    period = _period_or_exit(period_text, cutoff) if period_text else this_month
    db, sessions = await _reading(settings)
    try:
        async with sessions() as session:
            agency = await _agency_or_exit(agency_code, session=session)
            ids = [agency.id or 0] if agency else None

            async def summarise(chosen: Period) -> Summary:
                return await build_summary(
                    session,
                    chosen,
                    ids,
                    now=system_clock(),
                    min_sample=settings.min_sample,
                    locale=t.locale,
                    as_of=as_of,
                )

            result = await summarise(period)
            if period_text is None and result.ratings == 0:
                result = await summarise(period.previous())
                print(t("cli.period_last_month", period=result.period.label()))
            elif period_text is None:
                print(t("cli.period_this_month", period=period.label()))
            scope = await scope_label(t, agency, t.locale, session=session)
        print(summary_text(t, result, scope, settings.min_sample))
        print_agency_table(t, result, settings.min_sample)
    finally:
        await db.dispose()


@app.command()
def export(
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="The file to write (default: export-FIRST-LAST). Its ending follows what is "
            "written: .xlsx, .zip for the CSV tables, .csv for one --table.",
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            help="As for summary (2026-11, 2026-Q3, …); the last full month if left out."
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (with --to).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    file_format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.xlsx,
    table: Annotated[
        str | None,
        typer.Option(help="Only this table, as one plain CSV file (a wrong name lists them)."),
    ] = None,
    free_text: Annotated[bool, typer.Option(help="Include comments and report texts.")] = False,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Beside each row's unit, the unit it belongs to in the structure of this day; "
            "the summary rolls merged units up into it (default: today's structure).",
        ),
    ] = None,
) -> None:
    """Write ratings, reports, cases, reassignments and the summary (streaming)."""
    from bot.exports import TABLES

    t = _texts()
    if table is not None and table not in TABLES:
        print(t("cli.unknown_table", table=table[:40], tables=", ".join(TABLES)))
        raise typer.Exit(1)
    chosen = _export_period(period, start, end)
    written = "csv" if table else file_format.value
    suffix = ".csv" if table else EXPORT_SUFFIXES[written]
    target = output or Path(f"export-{chosen.start}-{chosen.end}{suffix}")
    if target.suffix.lower() != suffix:
        target = target.with_suffix(suffix)
        print(t("cli.renamed", path=target))
    day = as_of.date() if as_of else None
    _run(_export(_settings(), target, chosen, written, table, free_text, day))


EXPORT_SUFFIXES = {"xlsx": ".xlsx", "csv": ".zip"}
"""What a whole export's file is named by its format: the CSV tables travel in a ZIP."""


def _export_period(period: str | None, start: str | None, end: str | None) -> Period:
    """--from and --to together, or --period, or else the last full month."""
    from handlers.periods import last_full_month

    if (start is None) != (end is None):
        print(_texts()("cli.from_to"))
        raise typer.Exit(1)
    if start is not None:
        return _period_or_exit(f"{start}..{end}")
    return _period_or_exit(period) if period is not None else last_full_month(_today())


async def _export(
    settings: Settings,
    output: Path,
    period: Period,
    file_format: str,
    table: str | None,
    free_text: bool,
    as_of: date | None,
) -> None:
    from rich.progress import Progress

    from bot.exports import TABLES, ExportRequest, count_rows, open_tables, write_export

    t = _texts()
    db, sessions = await _reading(settings)
    request = ExportRequest(period, None, free_text=free_text, locale=t.locale, as_of=as_of)
    try:
        async with sessions() as session:
            total = await count_rows(session, request)
        tables = open_tables(output, file_format, t(f"export.sheet_{table}") if table else None)
        try:
            with Progress(transient=True) as bar:
                task = bar.add_task(output.name, total=total)
                await write_export(sessions, tables, request, lambda n: bar.advance(task, n))
        finally:
            tables.close()
        if file_format == "csv" and not table:
            names = ", ".join(t(f"export.sheet_{name}") for name in TABLES)
            print(
                t("cli.exported_zip", path=output, tables=names, rows=total, period=period.label())
            )
        else:
            print(t("cli.exported", path=output, rows=total, period=period.label()))
    finally:
        await db.dispose()


@demo_app.command("seed")
def demo_seed(
    ratings: Annotated[int, typer.Option(min=0)] = 5000,
    reports: Annotated[int, typer.Option(min=0)] = 100,
    seed_value: Annotated[int, typer.Option("--seed")] = 1,
) -> None:
    """Fill the database with realistic synthetic ratings and reports (development only)."""
    settings = _settings()
    _refuse_in_production(settings, "cli.demo_production")
    _run(_demo_seed(settings, ratings, reports, seed_value))


async def _demo_seed(settings: Settings, ratings: int, reports: int, seed_value: int) -> None:
    from rich.progress import Progress

    from bot import demo
    from bot.runtime import prepare_database
    from handlers.clock import system_clock

    db, sessions = await prepare_database(settings)
    try:
        with Progress(transient=True) as bar:
            task = bar.add_task("demo", total=ratings)
            await demo.seed(
                sessions,
                ratings=ratings,
                reports=reports,
                seed_value=seed_value,
                now=system_clock(),
                progress=lambda n: bar.advance(task, n),
            )
        print(_texts()("cli.seeded", ratings=ratings, reports=reports))
    finally:
        await db.dispose()


class PosterFormat(StrEnum):
    png = "png"
    pdf = "pdf"


@app.command()
def qr(
    agency: Annotated[str | None, typer.Argument(help="Agency code, e.g. 615-MC.")] = None,
    service: Annotated[str | None, typer.Option(help="Preselect this service too.")] = None,
    all_desks: Annotated[bool, typer.Option(help="A poster for every one-stop desk.")] = False,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder to write.")] = Path(
        "posters"
    ),
    file_format: Annotated[PosterFormat, typer.Option("--format")] = PosterFormat.png,
    dpi: Annotated[
        int, typer.Option(min=50, max=600, help="Dots per inch: 200 for print, 100 for screens.")
    ] = 200,
) -> None:
    """Write printable posters with the QR code that opens the rating for a desk."""
    _run(_posters(_settings(), agency, service, all_desks, output, file_format.value, dpi))


async def _posters(
    settings: Settings,
    agency_code: str | None,
    service_code: str | None,
    all_desks: bool,
    output: Path,
    file_format: str,
    dpi: int,
) -> None:
    from bot.posters import Poster, file_name, telegram_link, write_poster
    from bot.runtime import prepare_database
    from storage.agencies import agency_by_code, desks, service_by_code, services_for

    t = _texts()
    username = settings.telegram_bot_username
    if not username:
        print(t("cli.qr_needs_username"))
        raise typer.Exit(1)
    if (agency_code is None) == (not all_desks):
        print(t("cli.qr_usage"))
        raise typer.Exit(1)
    db, sessions = await prepare_database(settings)
    try:
        async with sessions() as session:
            if all_desks:
                chosen = await desks(on=_today(), session=session)
            else:
                found = await agency_by_code(agency_code or "", session=session)
                if found is None:
                    print(t("summary.unknown_agency", code=agency_code))
                    raise typer.Exit(1)
                chosen = [found]
            service = (
                await service_by_code(service_code, session=session) if service_code else None
            )
            if service_code and service is None:
                print(t("cli.unknown_service", code=service_code))
                raise typer.Exit(1)
            offering = [
                agency
                for agency in chosen
                if service is None
                or any(
                    s.id == service.id
                    for s in await services_for(agency, on=_today(), session=session)
                )
            ]
        await asyncio.to_thread(output.mkdir, parents=True, exist_ok=True)
        written = 0
        for agency in chosen:
            if service is not None and agency not in offering:
                print(t("cli.not_offered", agency=agency.name_vi, service=service.name_vi))
                continue
            poster = Poster(
                agency.name_vi,
                service.name_vi if service else None,
                telegram_link(username, agency.code, service.code if service else None),
                settings.zalo_link,
            )
            name = file_name(
                agency.code, agency.name_vi, service.name_vi if service else None, file_format
            )
            await asyncio.to_thread(write_poster, poster, t, output / name, dpi)
            print(output / name)
            written += 1
        if not written:
            print(t("cli.no_posters"))
            raise typer.Exit(1)
    finally:
        await db.dispose()


async def chat_in_terminal(settings: Settings, files: Path) -> None:
    """Chat as the local user; a conversation left unfinished resumes at its question, and
    files the bot sends are saved into `files`."""
    from bot.channels.console import CHANNEL as CONSOLE
    from bot.channels.console import LOCAL_CHAT, ConsoleChannel, console_incoming, read_line
    from bot.runtime import open_runtime
    from storage.conversations import load_conversation

    runtime = await open_runtime(settings, {CONSOLE: ConsoleChannel(files=files)})
    try:
        _say_in_every_language("console.intro")
        async with runtime.sessions() as session:
            known = await load_conversation(CONSOLE, LOCAL_CHAT, session=session)
        line: str | None = "/resume" if known else "/start"
        while line is not None:
            if line.strip():
                await runtime.engine.handle(console_incoming(line, chat_id=LOCAL_CHAT))
                await runtime.dispatcher.deliver_due()
            line = await read_line()
    except asyncio.CancelledError:
        print()
    finally:
        _say_in_every_language("console.goodbye")
        await runtime.close()


async def _open_messengers(
    settings: Settings,
) -> tuple[Runtime, TelegramChannel | None, ZaloChannel | None]:
    """The messengers that have a token, started, and the runtime that serves them."""
    from bot.channels.telegram import CHANNEL as TELEGRAM
    from bot.channels.telegram import TelegramChannel
    from bot.channels.zalo import CHANNEL as ZALO
    from bot.channels.zalo import ZaloChannel
    from bot.runtime import freeze_startup_objects, open_runtime, prepare_database
    from bot.web import file_publisher

    # The schema and the directory first, so a database that cannot serve stops the start
    # before any messenger is contacted or a webhook is set.
    db, _ = await prepare_database(settings)
    await db.dispose()
    telegram = zalo = None
    channels: dict[str, Channel] = {}
    if settings.telegram_token:
        telegram = TelegramChannel(
            settings.telegram_token,
            base_url=settings.telegram_api_base_url,
            overall_per_second=settings.overall_messages_per_second,
            per_chat_limit=(settings.per_chat_burst, settings.per_chat_period_seconds),
            download_limit_bytes=settings.evidence_max_megabytes * 1024 * 1024,
            max_concurrent_turns=settings.max_concurrent_turns,
        )
        await telegram.start()
        channels[TELEGRAM] = telegram
    if settings.zalo_token:
        zalo = ZaloChannel(
            settings.zalo_token,
            base_url=settings.zalo_api_base_url,
            per_chat_limit=(settings.zalo_per_chat_burst, settings.zalo_per_chat_period_seconds),
            download_limit_bytes=settings.evidence_max_megabytes * 1024 * 1024,
            max_concurrent_turns=settings.max_concurrent_turns,
        )
        channels[ZALO] = zalo
    try:
        runtime = await open_runtime(
            settings, channels, bot_username=telegram.bot.username if telegram else None
        )
    except BaseException:
        await _close_messengers(telegram, zalo)
        raise
    if zalo is not None:
        zalo.publish = file_publisher(
            runtime, settings.public_base_url, settings.served_file_hours
        )
    freeze_startup_objects()
    return runtime, telegram, zalo


async def _close_messengers(telegram: TelegramChannel | None, zalo: ZaloChannel | None) -> None:
    if telegram is not None:
        await telegram.stop()
    if zalo is not None:
        await zalo.close()


async def serve_polling(settings: Settings) -> None:
    """`feedbackbot run` with tokens: poll each messenger, deliver, run the scheduler."""
    from bot.scheduler import run_scheduler

    runtime, telegram, zalo = await _open_messengers(settings)
    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(runtime.dispatcher.run())
            tasks.create_task(
                run_scheduler(runtime.engine, interval_seconds=settings.scheduler_interval_seconds)
            )
            if telegram is not None:
                log.info("serving Telegram as @%s", telegram.bot.username)
                tasks.create_task(
                    telegram.poll(
                        runtime.engine, poll_seconds=settings.telegram_poll_timeout_seconds
                    )
                )
            if zalo is not None:
                log.info("serving Zalo by polling")
                tasks.create_task(
                    zalo.poll(runtime.engine, poll_seconds=settings.zalo_poll_timeout_seconds)
                )
    finally:
        await _close_messengers(telegram, zalo)
        await runtime.close()


@app.command()
def serve() -> None:
    """Serve the messengers by webhook behind HTTPS (production): /telegram, /zalo, /healthz."""
    settings = _settings()
    problems = settings.webhook_problems()
    if problems:
        print(_texts()("cli.serve_needs", settings=", ".join(problems)))
        raise typer.Exit(1)
    _run(serve_webhooks(settings))


async def serve_webhooks(settings: Settings) -> None:
    from bot.channels.telegram import ALLOWED_UPDATES
    from bot.scheduler import run_scheduler
    from bot.web import WebSettings, create_app

    base = (settings.public_base_url or "").rstrip("/")
    telegram_secret = _secret(settings.telegram_webhook_secret)
    zalo_secret = _secret(settings.zalo_webhook_secret)
    runtime, telegram, zalo = await _open_messengers(settings)
    try:
        if telegram is not None:
            await telegram.bot.set_webhook(
                f"{base}/telegram",
                secret_token=telegram_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        if zalo is not None:
            await zalo.call("setWebhook", url=f"{base}/zalo", secret_token=zalo_secret)
        web = create_app(
            runtime,
            web=WebSettings.from_settings(settings),
            telegram=telegram,
            telegram_secret=telegram_secret,
            zalo=zalo,
            zalo_secret=zalo_secret,
        )
        server = _web_server(web, settings)
        background = [
            asyncio.create_task(runtime.dispatcher.run()),
            asyncio.create_task(
                run_scheduler(runtime.engine, interval_seconds=settings.scheduler_interval_seconds)
            ),
        ]
        web_task = asyncio.create_task(server.serve(), name="web")
        try:
            await asyncio.shield(web_task)
        except asyncio.CancelledError:
            server.should_exit = True  # cancelled from outside: close sockets as on a signal
            await web_task
            raise
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
    finally:
        await _close_messengers(telegram, zalo)
        await runtime.close()


@app.command()
def web() -> None:
    """Serve the web pages alone (the public results page, the admins' dashboard), on the
    configured database (the SQLite quick-start one too), at WEB_HOST:WEB_PORT; no messenger
    is contacted."""
    _run(serve_pages(_settings()))


async def serve_pages(settings: Settings) -> None:
    from bot.runtime import prepare_database
    from bot.web import WebSettings, pages_app
    from storage.db import make_engine, make_sessionmaker

    db, sessions = await prepare_database(settings)
    reader = make_engine(settings.database_url, for_reading=True)
    try:
        app = pages_app(
            sessions,
            make_sessionmaker(reader, settings.identity_keys()),
            WebSettings.from_settings(settings),
        )
        server = _web_server(app, settings)
        log.info("serving the web pages on http://%s:%d/", settings.web_host, settings.web_port)
        await server.serve()
    finally:
        await reader.dispose()
        await db.dispose()


def _web_server(app: Starlette, settings: Settings) -> uvicorn.Server:
    """uvicorn serving `app` at WEB_HOST:WEB_PORT, with no access log: a dashboard sign-in
    link's token must not land in a log."""
    import uvicorn

    config = uvicorn.Config(
        app, host=settings.web_host, port=settings.web_port, lifespan="off", access_log=False
    )
    return uvicorn.Server(config)


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""


class _DryRun(Exception):
    """Raised at the end of a dry run, so the import's transaction keeps nothing."""


async def _import(
    settings: Settings, file: Path, *, replace: bool, retire: bool, dry_run: bool
) -> None:
    """Import in one transaction, as a job of the turn engine: what the hand-over of retired
    agencies tells officers waits in the outbox for the bot. A dry run rolls it all back."""
    from bot.engine import TurnEngine
    from handlers.casework.handover import hand_over
    from handlers.clock import local_day, system_clock
    from storage.db import make_engine, make_sessionmaker
    from storage.directory import (
        import_directory,
        read_directory,
        remove_unlisted,
        retire_unlisted,
    )
    from storage.schema import ensure_schema

    directory = read_directory(file)
    db = make_engine(settings.database_url)
    t = _texts()

    async def job(turn: Turn) -> None:
        today = local_day(turn.now)
        result = await import_directory(directory, today=today, session=turn.session)
        if retire:
            result.retired.extend(
                await retire_unlisted(directory, today=today, session=turn.session)
            )
        removed = await remove_unlisted(directory, session=turn.session) if replace else None
        print_diff(t, result)
        if dry_run:
            raise _DryRun
        if removed is not None:
            print(t("cli.removed", count=removed))
        handover = await hand_over(turn, result.retired)
        if handover.cases or handover.officers:
            print(t("cli.handed_over", cases=handover.cases, officers=handover.officers))

    try:
        keys = settings.identity_keys()
        await ensure_schema(db, keys)
        engine = TurnEngine(make_sessionmaker(db, keys), settings.rules(), clock=system_clock)
        try:
            await engine.run_job(job)
        except _DryRun:
            print(t("cli.dry_run"))
    finally:
        await db.dispose()


_DIFF_SHOWN = 30


def print_diff(t: Texts, result: ImportResult) -> None:
    """What an import adds, changes and retires, by code (the first few of each)."""
    print(
        t(
            "cli.imported",
            added=len(result.added),
            updated=len(result.updated),
            retired=len(result.retired),
            unchanged=result.unchanged,
        )
    )
    for key, codes in (
        ("added", result.added),
        ("updated", result.updated),
        ("retired", result.retired),
    ):
        if codes:
            shown = ", ".join(codes[:_DIFF_SHOWN]) + (" …" if len(codes) > _DIFF_SHOWN else "")
            print(t(f"cli.diff_{key}", codes=shown))


async def _upgrade(settings: Settings) -> None:
    from storage.db import make_engine
    from storage.schema import upgrade

    db = make_engine(settings.database_url)
    try:
        ran = await upgrade(db, settings.identity_keys())
        t = _texts()
        for revision, description in ran:
            print(t("cli.migration_ran", revision=revision, description=description))
        print(t("cli.schema_upgraded", count=len(ran)) if ran else t("cli.schema_ok"))
    finally:
        await db.dispose()


def print_roster(t: Texts, entries: list[RosterEntry]) -> None:
    """Officers as a table: what an operator needs to pick one, and no messenger id."""
    from rich.console import Console
    from rich.table import Table

    from handlers.clock import local_date_text

    table = Table(title=t("cli.officers_title"))
    for key in ("id", "agency", "role", "official", "joined", "active"):
        table.add_column(t(f"cli.officers_{key}"))
    for officer, agency, official in entries:
        table.add_row(
            str(officer.id),
            f"{agency.code} {agency.name_vi}",
            t(f"role.{officer.role}"),
            f"{official.code} {official.name}" if official else "–",
            local_date_text(officer.joined_at),
            t("cli.yes") if officer.active else t("cli.no"),
        )
    Console().print(table)


def print_agency_table(t: Texts, result: Summary, min_sample: int) -> None:
    """The ranking as one table per group (every agency, not only those the text lists)."""
    for group in result.ranking.order:
        rows = result.ranking.groups.get(group, [])
        if rows:
            _print_group(t, result, rows, result.ranking.label(t, group), min_sample)


def _print_group(
    t: Texts, result: Summary, rows: list[Ranked], group: str, min_sample: int
) -> None:
    from rich.console import Console
    from rich.table import Table

    from handlers.admin.summary import percent
    from handlers.indicators import FACTORS

    table = Table(title=t("summary.ranking", group=group, minimum=min_sample))
    table.add_column("#")
    table.add_column(t("export.col_agency"), no_wrap=True)
    for header in (
        t("export.col_ratings"),
        t("export.col_overall"),
        *(t(f"rating.short_{f}") for f in FACTORS),
    ):
        table.add_column(header)
    for row in rows:
        i = row.indicators
        table.add_row(
            str(row.rank or t("summary.small_sample")),
            result.names.get(row.key, "?"),
            str(i.ratings),
            percent(i.overall, t.locale),
            *(percent(i.satisfaction[f], t.locale) for f in FACTORS),
        )
    Console().print(table)


def main() -> None:
    app()
