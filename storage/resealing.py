"""Re-sealing every stored messenger id with the newest encryption key (`keys rotate`)."""

from __future__ import annotations

from sqlalchemy import and_, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.identity import keys_of
from storage.models import AgencyChat, Citizen, Officer, OutboxMessage

SEALED = (Citizen, Officer, OutboxMessage, AgencyChat)
"""Every table with a sealed `address`; hashes need no change (their key is never rotated)."""


async def reseal_all(*, session: AsyncSession) -> dict[str, int]:
    """Re-seal every address with the first ENCRYPTION_KEY. The caller commits once, so a
    rotation is all or nothing. Returns the rows re-sealed per table."""
    keys = keys_of(session)
    counts: dict[str, int] = {}
    for model in SEALED:
        primary_key = inspect(model).primary_key
        rows = (await session.execute(select(*primary_key, model.address))).all()
        for *ids, address in rows:
            match = and_(
                *(column == value for column, value in zip(primary_key, ids, strict=True))
            )
            await session.execute(update(model).where(match).values(address=keys.reseal(address)))
        counts[model.__tablename__] = len(rows)
    return counts
