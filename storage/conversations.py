"""Conversation rows and the processed-update ledger. Callers own the transaction.

The turn engine reads and writes its own chat's conversation as plain values, one statement
each (`read_dialog`, `save_dialog`): an ORM object would add identity-map and unit-of-work work
to every turn for nothing. Their statements are built once per dialect and take only parameters.
Another chat's conversation is only ever read (its language, `locales_of`), never locked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from storage.db import upsert
from storage.identity import keys_of
from storage.models import Conversation, ProcessedUpdate

_DIALOG_COLUMNS = ("state", "locale", "data", "offered", "updated_at")
_TABLE = Conversation.__table__
_READ_DIALOG = (
    select(_TABLE.c.state, _TABLE.c.locale, _TABLE.c.data, _TABLE.c.offered)
    .where(_TABLE.c.channel == bindparam("channel"), _TABLE.c.chat_ref == bindparam("chat_ref"))
    .with_for_update()
)


@cache
def _claim(dialect: str) -> Insert:
    return upsert(dialect, ProcessedUpdate.__table__).on_conflict_do_nothing()


@cache
def _save(dialect: str) -> Insert:
    statement = upsert(dialect, _TABLE)
    return statement.on_conflict_do_update(
        index_elements=["channel", "chat_ref"],
        set_={name: statement.excluded[name] for name in _DIALOG_COLUMNS},
    )


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name


async def claim_update(
    channel: str, update_id: str, now: datetime, *, session: AsyncSession
) -> bool:
    """Record an update as processed; False if it was processed before (a redelivery).

    One INSERT … ON CONFLICT DO NOTHING: no read first, and on PostgreSQL a concurrent twin
    waits for the first to commit and then inserts nothing, instead of failing on the key."""
    parameters = {"channel": channel, "update_id": update_id, "processed_at": now}
    result = await session.execute(_claim(_dialect(session)), parameters)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def read_dialog(
    channel: str, chat_id: str, *, session: AsyncSession
) -> Row[tuple[str, str, dict[str, Any], dict[str, Any]]] | None:
    """(state, locale, data, offered) of the chat, or None for a chat seen for the first time.

    The row stays locked for this transaction on PostgreSQL (on SQLite the one writer already
    serialises turns), so two workers never interleave one chat."""
    ref = keys_of(session).ref(channel, chat_id)
    result = await session.execute(_READ_DIALOG, {"channel": channel, "chat_ref": ref})
    return result.one_or_none()


async def save_dialog(
    channel: str,
    chat_id: str,
    now: datetime,
    *,
    state: str,
    locale: str,
    data: dict[str, Any],
    offered: dict[str, Any],
    session: AsyncSession,
) -> None:
    """Write the chat's conversation, creating it on the first turn (one upsert)."""
    ref = keys_of(session).ref(channel, chat_id)
    parameters = {"channel": channel, "chat_ref": ref, "state": state, "locale": locale}
    parameters |= {"data": data, "offered": offered, "updated_at": now}
    await session.execute(_save(_dialect(session)), parameters)


async def load_conversation(
    channel: str, chat_id: str, *, session: AsyncSession
) -> Conversation | None:
    """A chat's conversation as an ORM object, read without a lock (has it talked before?)."""
    ref = keys_of(session).ref(channel, chat_id)
    return await session.get(Conversation, (channel, ref))


async def locales_of(
    chats: Sequence[tuple[str, str]], *, session: AsyncSession
) -> dict[tuple[str, str], str]:
    """The language each of these (channel, chat id) chats chose, in one query; a chat that
    never talked to the bot is left out."""
    keys = keys_of(session)
    by_ref = {
        (channel, keys.ref(channel, chat_id)): (channel, chat_id) for channel, chat_id in chats
    }
    if not by_ref:
        return {}
    rows = await session.execute(
        select(_TABLE.c.channel, _TABLE.c.chat_ref, _TABLE.c.locale).where(
            tuple_(_TABLE.c.channel, _TABLE.c.chat_ref).in_(list(by_ref))
        )
    )
    return {by_ref[(channel, ref)]: locale for channel, ref, locale in rows}
