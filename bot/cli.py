"""The `feedbackbot` command line (typer): run the bot, chat in the terminal, manage data."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import uvicorn
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import demo
from bot.channels.base import Channel
from bot.channels.console import CHANNEL as CONSOLE
from bot.channels.console import LOCAL_CHAT, ConsoleChannel, console_incoming, read_line
from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import CHANNEL as ZALO
from bot.channels.zalo import ZaloChannel
from bot.config import Settings, settings_problems
from bot.exports import ExportRequest, count_rows, open_tables, write_export
from bot.posters import Poster, telegram_link, write_poster
from bot.runtime import DirectoryEmpty, Runtime, open_runtime, prepare_database
from bot.scheduler import run_scheduler
from bot.web import create_app, file_publisher
from handlers.access import may_bind
from handlers.admin.summary import Summary, build_summary, percent, summary_text
from handlers.clock import LOCAL_ZONE, local_date_text, system_clock
from handlers.indicators import FACTORS
from handlers.periods import Period, parse_period
from handlers.texts import LOCALES, Texts, pick_locale
from storage.agencies import (
    agency_by_code,
    agency_by_id,
    desks,
    service_by_code,
    services_for,
)
from storage.conversations import load_conversation
from storage.copying import CountsDiffer, TargetNotEmpty, copy_database
from storage.db import is_sqlite, make_engine, make_sessionmaker
from storage.directory import (
    DirectoryError,
    DirectoryInUse,
    import_directory,
    read_directory,
    remove_unlisted,
)
from storage.identity import UnreadableId, new_encryption_key
from storage.models import Agency
from storage.officers import (
    RosterEntry,
    create_invite,
    officer_by_id,
    official_by_code,
    revoke,
    roster,
)
from storage.resealing import reseal_all
from storage.schema import UPGRADE_COMMAND, SchemaOutdated, ensure_schema, upgrade

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


def _settings() -> Settings:
    """The settings, or one line per problem and exit code 1: the one place every command
    reads them, so no command prints a traceback that could echo a secret."""
    try:
        settings = Settings()
    except ValidationError as error:
        _refuse_settings(settings_problems(error))
    except SettingsError as error:
        _refuse_settings([str(error)])
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The limiter logs every 429 as an error with a traceback; the dispatcher retries it and
    # logs a warning of its own, so that line would only alarm the operator.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    return settings


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
    for locale in LOCALES:
        print(Texts(locale)(key))


def _texts() -> Texts:
    """The operator's language, from the locale of the shell (Vietnamese unless it is English)."""
    return Texts(pick_locale(os.environ.get("LANG", "").replace("_", "-")))


def _run(main: object) -> None:
    """Run a coroutine; turn the known start-up failures into a message and exit code 1."""
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
        _run(chat_in_terminal(settings))
    else:
        _run(serve_polling(settings))


@app.command()
def chat() -> None:
    """Chat with the bot in this terminal (options are numbered; type the number)."""
    settings = _settings()
    _refuse_in_production(settings, "cli.production_no_terminal")
    _run(chat_in_terminal(settings))


@directory_app.command("import")
def directory_import(
    file: Annotated[Path, typer.Argument(help="A directory YAML file (see README).")],
    replace: Annotated[
        bool,
        typer.Option(
            help="Also delete the entries FILE does not list (the sample), if nothing uses them."
        ),
    ] = False,
) -> None:
    """Add or update agencies, officials and services from FILE (safe to run again)."""
    _run(_import(_settings(), file, replace=replace))


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
    t = _texts()
    engines: list[AsyncEngine] = []
    try:
        for side, url in (("copy_source", source_url), ("copy_target", target_url)):
            try:
                if side == "copy_source":
                    _must_exist(url)
                engine = make_engine(url, for_reading=side == "copy_source")
                async with engine.connect():
                    pass
            except (ArgumentError, OSError, SQLAlchemyError) as error:
                print(t("cli.copy_cannot_open", side=t(f"cli.{side}"), error=_first_line(error)))
                raise typer.Exit(1) from error
            engines.append(engine)
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


def _must_exist(url: str) -> None:
    """An SQLite file to copy from must exist: opening a missing one would create it empty."""
    name = make_url(url).database
    if is_sqlite(url) and name and name != ":memory:" and not Path(name).exists():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)


def _first_line(error: BaseException) -> str:
    """An error's first line: enough to act on, without the statement or the parameters."""
    return (str(error).splitlines() or [type(error).__name__])[0]


@keys_app.command("new")
def keys_new() -> None:
    """Print a fresh ENCRYPTION_KEY (for a new installation or a rotation)."""
    print(new_encryption_key())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-seal every stored messenger id with ENCRYPTION_KEY; the keys listed in
    ENCRYPTION_KEY_PREVIOUS must still open the old ones. Remove them afterwards."""
    _run(_rotate(_settings()))


async def _rotate(settings: Settings) -> None:
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
        username = settings.telegram_bot_username or "<bot>"
        print(
            _texts()(
                "cli.invite",
                code=invite.code,
                role=_texts()(f"role.{role}"),
                agency=agency.name_vi,
                until=local_date_text(invite.expires_at),
                link=f"https://t.me/{username}?start=join_{invite.code}",
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
    t = _texts()
    db, sessions = await prepare_database(settings)
    try:
        async with sessions() as session, session.begin():
            officer = await officer_by_id(officer_id, session=session)
            if officer is None:
                print(t("cli.unknown_officer", id=officer_id))
                raise typer.Exit(1)
            if officer.active:
                await revoke(officer, by="cli", now=system_clock(), session=session)
            agency = await agency_by_id(officer.agency_id, session=session)
        print(
            t(
                "cli.revoked",
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
        str,
        typer.Option(
            help="month, quarter, year, 2026-11, 2026-Q3, 2026, or 2026-01-01..2026-03-31"
        ),
    ] = "month",
    agency: Annotated[
        str | None, typer.Option(help="An agency code; all agencies if left out.")
    ] = None,
) -> None:
    """Print the indicators of a period, as /summary does in chat."""
    _run(_summary(_settings(), period, agency))


async def _reading(settings: Settings) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """Check the schema, then read through an engine that never holds up a running bot."""
    db, _ = await prepare_database(settings)
    await db.dispose()
    reader = make_engine(settings.database_url, for_reading=True)
    return reader, make_sessionmaker(reader, settings.identity_keys())


async def _agency_or_exit(code: str | None, *, session: AsyncSession) -> Agency | None:
    """The agency of an optional code; an unknown code ends the command with exit code 1."""
    if not code:
        return None
    agency = await agency_by_code(code, session=session)
    if agency is None:
        print(_texts()("summary.unknown_agency", code=code))
        raise typer.Exit(1)
    return agency


async def _summary(settings: Settings, period_text: str, agency_code: str | None) -> None:
    t = _texts()
    period = parse_period(period_text, system_clock().astimezone(LOCAL_ZONE).date())
    if period is None:
        print(t("summary.usage"))
        raise typer.Exit(1)
    db, sessions = await _reading(settings)
    try:
        async with sessions() as session:
            agency = await _agency_or_exit(agency_code, session=session)
            ids = [agency.id or 0] if agency else None
            result = await build_summary(
                session,
                period,
                ids,
                now=system_clock(),
                min_sample=settings.min_sample,
                locale=t.locale,
            )
        scope = agency.name_vi if agency else t("summary.province")
        print(summary_text(t, result, scope, settings.min_sample))
        print_agency_table(t, result, settings.min_sample)
    finally:
        await db.dispose()


@app.command()
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write.")],
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    file_format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.xlsx,
    free_text: Annotated[bool, typer.Option(help="Include comments and report texts.")] = False,
) -> None:
    """Write ratings, reports, cases, reassignments and the summary (streaming)."""
    period = parse_period(f"{start}..{end}", system_clock().date())
    if period is None:
        print(_texts()("summary.usage"))
        raise typer.Exit(1)
    _run(_export(_settings(), output, period, file_format.value, free_text))


async def _export(
    settings: Settings, output: Path, period: Period, file_format: str, free_text: bool
) -> None:
    db, sessions = await _reading(settings)
    request = ExportRequest(period, None, free_text=free_text, locale=_texts().locale)
    try:
        async with sessions() as session:
            total = await count_rows(session, request)
        tables = open_tables(output, file_format)
        with Progress(transient=True) as bar:
            task = bar.add_task(output.name, total=total)
            await write_export(sessions, tables, request, lambda n: bar.advance(task, n))
        tables.close()
        print(_texts()("cli.exported", path=output, rows=total))
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
) -> None:
    """Write printable posters with the QR code that opens the rating for a desk."""
    _run(_posters(_settings(), agency, service, all_desks, output, file_format.value))


async def _posters(
    settings: Settings,
    agency_code: str | None,
    service_code: str | None,
    all_desks: bool,
    output: Path,
    file_format: str,
) -> None:
    t = _texts()
    username = settings.telegram_bot_username
    if not username or (agency_code is None) == (not all_desks):
        print(t("cli.qr_usage"))
        raise typer.Exit(1)
    db, sessions = await prepare_database(settings)
    try:
        async with sessions() as session:
            if all_desks:
                chosen = await desks(session=session)
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
        await asyncio.to_thread(output.mkdir, parents=True, exist_ok=True)
        for agency in chosen:
            if service is not None and not await _offers(settings, agency, service.id):
                print(t("cli.not_offered", agency=agency.name_vi, service=service.name_vi))
                continue
            poster = Poster(
                agency.name_vi,
                service.name_vi if service else None,
                telegram_link(username, agency.code, service.code if service else None),
                settings.zalo_link,
            )
            path = output / f"{agency.code}{'-' + service.code if service else ''}.{file_format}"
            await asyncio.to_thread(write_poster, poster, t, path)
            print(path)
    finally:
        await db.dispose()


async def _offers(settings: Settings, agency: Agency, service_id: int | None) -> bool:
    reader = make_engine(settings.database_url, for_reading=True)
    try:
        async with make_sessionmaker(reader, settings.identity_keys())() as session:
            offered = await services_for(agency, session=session)
    finally:
        await reader.dispose()
    return any(s.id == service_id for s in offered)


async def chat_in_terminal(settings: Settings) -> None:
    """Chat as the local user; a conversation left unfinished resumes at its question."""
    runtime = await open_runtime(settings, {CONSOLE: ConsoleChannel()})
    try:
        _say_in_every_language("console.intro")
        async with runtime.sessions() as session:
            known = await load_conversation(CONSOLE, LOCAL_CHAT, session=session, lock=False)
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
    return runtime, telegram, zalo


async def _close_messengers(telegram: TelegramChannel | None, zalo: ZaloChannel | None) -> None:
    if telegram is not None:
        await telegram.stop()
    if zalo is not None:
        await zalo.close()


async def serve_polling(settings: Settings) -> None:
    """`feedbackbot run` with tokens: poll each messenger, deliver, run the scheduler."""
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
    base = (settings.public_base_url or "").rstrip("/")
    telegram_secret = _secret(settings.telegram_webhook_secret)
    zalo_secret = _secret(settings.zalo_webhook_secret)
    runtime, telegram, zalo = await _open_messengers(settings)
    try:
        if telegram is not None:
            await telegram.bot.set_webhook(
                f"{base}/telegram",
                secret_token=telegram_secret,
                allowed_updates=["message", "callback_query"],
            )
        if zalo is not None:
            await zalo.call("setWebhook", url=f"{base}/zalo", secret_token=zalo_secret)
        web = create_app(
            runtime,
            telegram=telegram,
            telegram_secret=telegram_secret,
            zalo=zalo,
            zalo_secret=zalo_secret,
        )
        server = uvicorn.Server(
            uvicorn.Config(web, host=settings.web_host, port=settings.web_port, lifespan="off")
        )
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


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""


async def _import(settings: Settings, file: Path, *, replace: bool) -> None:
    directory = read_directory(file)
    db = make_engine(settings.database_url)
    try:
        keys = settings.identity_keys()
        await ensure_schema(db, keys)
        async with make_sessionmaker(db, keys)() as session, session.begin():
            result = await import_directory(directory, session=session)
            removed = await remove_unlisted(directory, session=session) if replace else None
        t = _texts()
        print(
            t(
                "cli.imported",
                added=result.added,
                updated=result.updated,
                unchanged=result.unchanged,
            )
        )
        if removed is not None:
            print(t("cli.removed", count=removed))
    finally:
        await db.dispose()


async def _upgrade(settings: Settings) -> None:
    db = make_engine(settings.database_url)
    try:
        await upgrade(db, settings.identity_keys())
        print(_texts()("cli.schema_ok"))
    finally:
        await db.dispose()


def print_roster(t: Texts, entries: list[RosterEntry]) -> None:
    """Officers as a table: what an operator needs to pick one, and no messenger id."""
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
    """The ranking as a table (every agency, not only the first ten)."""
    table = Table(title=t("summary.ranking", minimum=min_sample))
    for header in (
        "#",
        t("export.col_agency"),
        t("export.col_ratings"),
        t("export.col_overall"),
        *(t(f"rating.short_{f}") for f in FACTORS),
    ):
        table.add_column(header)
    for row in result.agencies:
        i = row.indicators
        table.add_row(
            str(row.rank or t("summary.small_sample")),
            result.names.get(row.key, "?"),
            str(i.ratings),
            percent(i.overall),
            *(percent(i.satisfaction[f]) for f in FACTORS),
        )
    Console().print(table)


def main() -> None:
    app()
