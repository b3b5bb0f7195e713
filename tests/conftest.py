"""Shared fixtures: a fresh database per test, the runtime, and a terminal `Chat` helper."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import aiosqlite
import pytest
import yaml
from sqlalchemy import select
from sqlmodel import SQLModel

from bot.channels.console import CHANNEL, ConsoleChannel, console_incoming
from bot.config import SAMPLE_DIRECTORY, Settings
from bot.runtime import Runtime, open_runtime
from handlers.messages import Attachment, AttachmentKind, ConversationKey, Incoming
from storage.identity import keys_of
from tests.databases import (
    POSTGRES_URL,
    PostgresCopies,
    create_database,
    drop_database,
    postgres_answers,
    prepare,
)

Row = TypeVar("Row", bound=SQLModel)


KONTUM_2022 = Path(__file__).resolve().parent.parent / "data" / "kontum-2022.yaml"


def kontum_as_today(target: Path) -> Path:
    """The 2022 Kon Tum sample as if it were today's directory: the suite's dialogues were
    written against its three levels, its codes and its officials. The real default (today's
    Quảng Ngãi, with this file as its history) is tested in test_production.py."""
    data = yaml.safe_load(KONTUM_2022.read_text(encoding="utf-8"))
    data.pop("valid_to")
    for entry in (*data["agencies"], *data["services"]):
        entry.pop("successor", None)
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


@pytest.fixture(scope="session", autouse=True)
def sample_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every Settings of the session, made here or by the command line, loads `kontum_as_today`
    (the settings read the environment)."""
    path = kontum_as_today(tmp_path_factory.mktemp("directory") / "kontum-today.yaml")
    values = {"DIRECTORY_FILE": str(path), "DIRECTORY_HISTORY": "[]"}
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    yield path
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


CONNECTION_THREAD = f"({aiosqlite.core._connection_worker_thread.__name__})"
"""How the thread of an aiosqlite connection is named ("Thread-7 (…)")."""


@pytest.fixture(autouse=True)
def sqlite_connections_closed() -> Iterator[None]:
    """Every SQLite connection a test opens is closed by the time the test ends, its thread
    with it: a connection still open (an engine not disposed, a session not closed) or one
    left to close itself would answer an event loop that is gone, in the middle of a later
    test."""
    before = set(threading.enumerate())
    yield
    left = [
        thread
        for thread in threading.enumerate()
        if thread not in before and thread.name.endswith(CONNECTION_THREAD)
    ]
    for thread in left:
        thread.join(timeout=1)  # one closing right now has a moment to finish
    assert [thread.name for thread in left if thread.is_alive()] == [], "left open"


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory, sample_directory: Path) -> Path:
    """The SQLite template, made once per session (per worker) where a test needs it."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(prepare(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_copies(sample_directory: Path) -> Iterator[PostgresCopies]:
    """The PostgreSQL template and its copies, made once per session (per worker)."""
    copies = PostgresCopies(POSTGRES_URL)
    try:
        yield copies
    finally:
        copies.close()


BACKENDS = ("sqlite", "postgres")
"""The databases the bot runs on, named as the `backend` parameter and the markers are."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses a database runs once per backend (`[sqlite]`, `[postgres]`); one
    marked `sqlite` or `postgres` is about that database itself and runs on it alone."""
    if "backend" in metafunc.fixturenames:
        only = [name for name in BACKENDS if metafunc.definition.get_closest_marker(name)]
        metafunc.parametrize("backend", only or BACKENDS, indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` first, then the PostgreSQL variants (slower than the rest): the
    workers start on the long tests and the run ends on short ones, not waiting on one."""

    def order(item: pytest.Item) -> tuple[bool, bool]:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("backend") == "postgres"
        return item.get_closest_marker("slow") is None, not on_postgres

    items.sort(key=order)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database this variant of the test runs on; without a PostgreSQL server, the
    `[postgres]` variants are skipped, saying where none answered."""
    name: str = request.param
    if name == "postgres" and not postgres_answers():
        pytest.skip(f"no PostgreSQL server answers at {POSTGRES_URL} (TEST_POSTGRES_URL)")
    return name


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the backend's template (much faster than running the migrations and
    the import again)."""
    if backend == "postgres":
        copies: PostgresCopies = request.getfixturevalue("postgres_copies")
        name = copies.take()
        try:
            yield copies.url(name)
        finally:
            copies.drop(name)
        return
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Makes empty databases (no schema) on the backend by name: SQLite files, or PostgreSQL
    databases dropped after the test. Returns their SQLAlchemy URLs."""
    made: list[str] = []

    def make(name: str) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / f'{name}.sqlite3'}"
        database = f"feedbackbot_{name}_{uuid.uuid4().hex[:12]}"
        made.append(database)
        return create_database(POSTGRES_URL, database)

    yield make
    for database in made:
        drop_database(POSTGRES_URL, database)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


class Clock:
    """A clock the tests move by hand (no sleeps): Monday 30 Nov 2026, 09:00 in Vietnam."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Chat:
    """Say something in the terminal channel, get back everything the bot answered."""

    def __init__(self, runtime: Runtime, output: list[tuple[str, str]], chat_id: str) -> None:
        self.runtime, self.output, self.chat_id = runtime, output, chat_id
        self.language: str | None = None

    async def say(self, text: str) -> str:
        return await self.send(
            console_incoming(text, chat_id=self.chat_id, language=self.language)
        )

    async def send(self, incoming: Incoming) -> str:
        start = len(self.output)
        await self.runtime.engine.handle(incoming)
        await self.runtime.dispatcher.deliver_due()
        return "\n".join(text for chat, text in self.output[start:] if chat == self.chat_id)

    def ref(self) -> str:
        """The keyed hash under which this chat's rows are stored."""
        return keys_of(self.runtime.sessions()).ref(CHANNEL, self.chat_id)

    def received(self) -> list[str]:
        """Everything this chat was sent so far (also what other chats' turns sent it)."""
        return [text for chat, text in self.output if chat == self.chat_id]

    def incoming(self, **fields: object) -> Incoming:
        return Incoming(
            key=ConversationKey(CHANNEL, self.chat_id),
            update_id=uuid.uuid4().hex,
            user_id=self.chat_id,
            **fields,  # type: ignore[arg-type]
        )

    async def send_photo(self, content: bytes | None = None, mime: str = "image/jpeg") -> str:
        photo = Attachment(
            AttachmentKind.PHOTO, "f", "photo.jpg", mime, len(content or b""), content
        )
        return await self.send(self.incoming(attachments=(photo,)))

    async def press(self, token: str) -> str:
        return await self.send(self.incoming(choice_token=token))

    async def rows(self, model: type[Row]) -> list[Row]:
        async with self.runtime.sessions() as session:
            return list((await session.scalars(select(model))).all())


@pytest.fixture
async def runtime(
    settings: Settings, clock: Clock
) -> AsyncIterator[tuple[Runtime, list[tuple[str, str]]]]:
    output: list[tuple[str, str]] = []
    rt = await open_runtime(
        settings,
        {CHANNEL: ConsoleChannel(write=lambda chat, text: output.append((chat, text)))},
        clock=clock,
    )
    yield rt, output
    await rt.close()


@pytest.fixture
def chat(runtime: tuple[Runtime, list[tuple[str, str]]]) -> Chat:
    return Chat(runtime[0], runtime[1], "citizen-1")


TWO_LEVELS = Path(__file__).resolve().parent / "data" / "two-levels.yaml"


@asynccontextmanager
async def citizen_on(directory: Path, tmp_path: Path, clock: Clock) -> AsyncIterator[Chat]:
    """A citizen at the menu of a bot on a new database loaded with `directory` alone."""
    output: list[tuple[str, str]] = []
    runtime = await open_runtime(
        make_settings(tmp_path, directory_file=directory, directory_history=[]),
        {CHANNEL: ConsoleChannel(write=lambda chat, text: output.append((chat, text)))},
        clock=clock,
    )
    try:
        chat = Chat(runtime, output, "citizen-1")
        await chat.say("/start")
        await chat.say("1")
        yield chat
    finally:
        await runtime.close()


@pytest.fixture
async def two_levels(tmp_path: Path, clock: Clock) -> AsyncIterator[Chat]:
    """A citizen of a bot whose directory is province → commune."""
    async with citizen_on(TWO_LEVELS, tmp_path, clock) as chat:
        yield chat


@pytest.fixture
async def quang_ngai(tmp_path: Path, clock: Clock) -> AsyncIterator[Chat]:
    """A citizen of a bot on the default directory: today's Quảng Ngãi."""
    async with citizen_on(SAMPLE_DIRECTORY, tmp_path, clock) as chat:
        yield chat


@pytest.fixture
async def consented(chat: Chat) -> Chat:
    """A citizen who has agreed to the privacy notice and sees the menu."""
    await chat.say("/start")
    await chat.say("1")
    return chat
