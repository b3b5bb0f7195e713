"""The `feedbackbot` command line (typer): run the bot, chat in the terminal, manage data."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from bot.channels.console import CHANNEL as CONSOLE
from bot.channels.console import LOCAL_CHAT, ConsoleChannel, console_incoming, read_line
from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.telegram import TelegramChannel
from bot.config import Settings
from bot.runtime import open_runtime
from handlers.texts import LOCALES, Texts
from storage.conversations import load_conversation
from storage.db import make_engine, make_sessionmaker
from storage.directory import DirectoryError, import_directory, read_directory
from storage.schema import SchemaOutdated, ensure_schema, upgrade

app = typer.Typer(help="feedbackbot: citizens rate public services by chat.", no_args_is_help=True)
directory_app = typer.Typer(help="The directory of agencies, officials and services.")
db_app = typer.Typer(help="The database schema.")
app.add_typer(directory_app, name="directory")
app.add_typer(db_app, name="db")


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The limiter logs every 429 as an error with a traceback; the dispatcher retries it and
    # logs a warning of its own, so that line would only alarm the operator.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    return settings


def _say_in_every_language(key: str) -> None:
    for locale in LOCALES:
        print(Texts(locale)(key))


def _run(main: object) -> None:
    """Run a coroutine; turn the known start-up failures into a message and exit code 1."""
    try:
        asyncio.run(main)  # type: ignore[arg-type]
    except (SchemaOutdated, DirectoryError) as error:
        print(error)
        raise typer.Exit(1) from error
    except KeyboardInterrupt:
        pass


@app.command()
def run() -> None:
    """Serve every messenger that has a token; with none, chat in this terminal."""
    settings = _settings()
    if settings.telegram_token is None:
        _say_in_every_language("console.no_token")
        _run(chat_in_terminal(settings))
    else:
        _run(serve_telegram(settings))


@app.command()
def chat() -> None:
    """Chat with the bot in this terminal (options are numbered; type the number)."""
    _run(chat_in_terminal(_settings()))


@directory_app.command("import")
def directory_import(
    file: Annotated[Path, typer.Argument(help="A directory YAML file (see README).")],
) -> None:
    """Add or update agencies, officials and services from FILE (safe to run again)."""
    _run(_import(_settings(), file))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest version (back up the database first)."""
    _run(_upgrade(_settings()))


async def chat_in_terminal(settings: Settings) -> None:
    """Chat as the local user; a conversation left unfinished resumes at its question."""
    runtime = await open_runtime(settings, {CONSOLE: ConsoleChannel()})
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


async def serve_telegram(settings: Settings) -> None:
    channel = TelegramChannel(
        settings.telegram_token or "",
        base_url=settings.telegram_api_base_url,
        overall_per_second=settings.overall_messages_per_second,
        per_chat_limit=(settings.per_chat_burst, settings.per_chat_period_seconds),
    )
    runtime = await open_runtime(settings, {TELEGRAM: channel})
    try:
        await channel.start()
        logging.getLogger(__name__).info("serving Telegram as @%s", channel.bot.username)
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(runtime.dispatcher.run())
            tasks.create_task(
                channel.poll(runtime.engine, poll_seconds=settings.telegram_poll_timeout_seconds)
            )
    finally:
        await channel.stop()
        await runtime.close()


async def _import(settings: Settings, file: Path) -> None:
    directory = read_directory(file)
    db = make_engine(settings.database_url)
    try:
        await ensure_schema(db)
        async with make_sessionmaker(db)() as session, session.begin():
            result = await import_directory(directory, session=session)
        print(f"added {result.added}, updated {result.updated}, unchanged {result.unchanged}")
    finally:
        await db.dispose()


async def _upgrade(settings: Settings) -> None:
    db = make_engine(settings.database_url)
    try:
        await upgrade(db)
        print("database schema is up to date")
    finally:
        await db.dispose()


def main() -> None:
    app()
