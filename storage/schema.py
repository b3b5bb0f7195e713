"""Schema versioning with Alembic: create a new database, refuse an out-of-date one."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.identity import IdentityKeys

MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE_COMMAND = "feedbackbot db upgrade"


class SchemaOutdated(RuntimeError):
    """The database exists but lacks migrations; the message names the command that fixes it."""

    def __init__(self, current: str | None, needed: str | None) -> None:
        super().__init__(
            f"The database schema is at revision {current or 'none'}, the bot needs {needed}. "
            f"Back up the database, then run: {UPGRADE_COMMAND}"
        )
        self.current, self.needed = current or "-", needed or "-"


def _config(connection: Connection, keys: IdentityKeys) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["identity"] = keys
    return config


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def _head() -> str | None:
    return _scripts().get_current_head()


def _upgrade(connection: Connection, keys: IdentityKeys) -> list[tuple[str, str]]:
    current = MigrationContext.configure(connection).get_current_revision()
    pending = _scripts().iterate_revisions("head", current or "base")
    ran = [(script.revision, script.doc) for script in reversed(list(pending))]
    command.upgrade(_config(connection, keys), "head")
    return ran


def _state(connection: Connection) -> tuple[bool, str | None]:
    """Return (database is empty, current revision)."""
    empty = not inspect(connection).get_table_names()
    return empty, MigrationContext.configure(connection).get_current_revision()


async def upgrade(engine: AsyncEngine, keys: IdentityKeys) -> list[tuple[str, str]]:
    """Bring the schema to the newest revision (the `db upgrade` command); the keys convert
    stored messenger ids where a migration needs to. Returns the migrations run, oldest first,
    as (revision, description): none when the schema was up to date."""
    async with engine.begin() as connection:
        return await connection.run_sync(_upgrade, keys)


async def ensure_schema(engine: AsyncEngine, keys: IdentityKeys) -> bool:
    """Create the schema of an empty database; refuse one that is behind. True if created."""
    async with engine.connect() as connection:
        empty, current = await connection.run_sync(_state)
    if empty:
        await upgrade(engine, keys)
        return True
    if current != _head():
        raise SchemaOutdated(current, _head())
    return False


async def require_current(engine: AsyncEngine) -> None:
    """Refuse a database whose schema is not at the newest revision (an empty one included)."""
    async with engine.connect() as connection:
        _, current = await connection.run_sync(_state)
    if current != _head():
        raise SchemaOutdated(current, _head())
