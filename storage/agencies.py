"""Lookups in the directory for the conversations: levels, children, search, services.

Levels come from the directory's header, never from code: the root agencies (no parent) are the
top level, and the agencies of each lower level's kind are its units.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.directory import current_on, is_current
from storage.models import Agency, DirectoryHeader, Service


async def agency_by_id(agency_id: int, *, session: AsyncSession) -> Agency | None:
    return await session.get(Agency, agency_id)


async def agency_by_code(code: str, *, session: AsyncSession) -> Agency | None:
    """Codes are matched without regard to case: people type "615-mc" too."""
    return await session.scalar(select(Agency).where(func.upper(Agency.code) == code.upper()))


async def agencies_by_ids(ids: Sequence[int], *, session: AsyncSession) -> list[Agency]:
    """Agencies in the order of `ids` (missing ones dropped)."""
    rows = {a.id: a for a in (await session.scalars(select(Agency).where(Agency.id.in_(ids))))}
    return [rows[i] for i in ids if i in rows]


async def directory_header(*, session: AsyncSession) -> DirectoryHeader | None:
    """The header of the last directory imported; None before the first import."""
    return await session.get(DirectoryHeader, 1)


async def province_name(locale: str, *, session: AsyncSession) -> str | None:
    """The province as the notices name it, from the directory's header."""
    header = await directory_header(session=session)
    if header is None:
        return None
    return header.province_en if locale == "en" else header.province_vi


async def top_agencies(
    unit_kinds: Sequence[str], *, on: date, session: AsyncSession
) -> list[Agency]:
    """Agencies existing on day `on` directly under the root(s) that are no unit of a lower
    level: departments, the centre, the provincial police."""
    roots = select(Agency.id).where(Agency.parent_id.is_(None))
    rows = await session.scalars(
        select(Agency)
        .where(
            Agency.parent_id.in_(roots),
            Agency.kind.not_in(list(unit_kinds)),
            current_on(Agency, on),
        )
        .order_by(Agency.id)
    )
    return list(rows.all())


async def units_of(kind: str, *, on: date, session: AsyncSession) -> list[Agency]:
    """The units of one level existing on day `on`: every district, or every commune."""
    rows = await session.scalars(
        select(Agency).where(Agency.kind == kind, current_on(Agency, on)).order_by(Agency.id)
    )
    return list(rows.all())


async def children(parent_id: int, *, on: date, session: AsyncSession) -> list[Agency]:
    rows = await session.scalars(
        select(Agency)
        .where(Agency.parent_id == parent_id, current_on(Agency, on))
        .order_by(Agency.id)
    )
    return list(rows.all())


async def rateable_agencies(*, on: date, session: AsyncSession) -> list[Agency]:
    """Every agency a citizen can rate on day `on` (all but the root), for name search."""
    rows = await session.scalars(
        select(Agency)
        .where(Agency.parent_id.is_not(None), current_on(Agency, on))
        .order_by(Agency.id)
    )
    return list(rows.all())


async def desks(*, on: date, session: AsyncSession) -> list[Agency]:
    """Where citizens are served at a counter on day `on`: the kinds the directory names."""
    header = await directory_header(session=session)
    kinds = header.counters if header is not None else []
    rows = await session.scalars(
        select(Agency).where(Agency.kind.in_(kinds), current_on(Agency, on)).order_by(Agency.id)
    )
    return list(rows.all())


async def services_for(agency: Agency, *, on: date, session: AsyncSession) -> list[Service]:
    """Services existing on day `on`, offered by the agency's kind or named for the agency by
    its code; none once the agency itself is retired."""
    if not is_current(agency.valid_from, agency.valid_to, on):
        return []
    rows = await session.scalars(
        select(Service).where(current_on(Service, on)).order_by(Service.id)
    )
    return [s for s in rows.all() if agency.kind in s.offered_by or agency.code in s.offered_by]


async def sectors_of(service_ids: Sequence[int], *, session: AsyncSession) -> dict[int, str]:
    rows = await session.execute(
        select(Service.id, Service.sector).where(Service.id.in_(list(service_ids)))
    )
    return {service_id: sector for service_id, sector in rows.all()}


async def services_by_ids(ids: Sequence[int], *, session: AsyncSession) -> list[Service]:
    """Services of the given ids, by code."""
    query = select(Service).where(Service.id.in_(list(ids))).order_by(Service.code)
    return list((await session.scalars(query)).all())


async def service_by_id(service_id: int, *, session: AsyncSession) -> Service | None:
    return await session.get(Service, service_id)


async def service_by_code(code: str, *, session: AsyncSession) -> Service | None:
    return await session.scalar(select(Service).where(Service.code == code))


async def groups_of(agency_ids: Sequence[int], *, session: AsyncSession) -> dict[int, str]:
    """The group of each agency that has one."""
    rows = await session.execute(
        select(Agency.id, Agency.group).where(
            Agency.id.in_(list(agency_ids)), Agency.group.is_not(None)
        )
    )
    return {agency_id: group for agency_id, group in rows.all() if group}


async def lineage_rows(
    *, session: AsyncSession
) -> list[tuple[int, int | None, date | None, date | None]]:
    """(id, successor, valid_from, valid_to) of every agency, for the figures' roll-up."""
    rows = await session.execute(
        select(Agency.id, Agency.successor_id, Agency.valid_from, Agency.valid_to)
    )
    return [(a, s, f, t) for a, s, f, t in rows.all()]
