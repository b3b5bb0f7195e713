"""Lookups in the directory for the conversations: levels, children, search, services."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Service

ROOT_KIND = "province"
DISTRICT_KIND = "district"


async def agency_by_id(agency_id: int, *, session: AsyncSession) -> Agency | None:
    return await session.get(Agency, agency_id)


async def agency_by_code(code: str, *, session: AsyncSession) -> Agency | None:
    """Codes are matched without regard to case: people type "615-mc" too."""
    return await session.scalar(select(Agency).where(func.upper(Agency.code) == code.upper()))


async def agencies_by_ids(ids: Sequence[int], *, session: AsyncSession) -> list[Agency]:
    """Agencies in the order of `ids` (missing ones dropped)."""
    rows = {a.id: a for a in (await session.scalars(select(Agency).where(Agency.id.in_(ids))))}
    return [rows[i] for i in ids if i in rows]


async def provincial_agencies(*, session: AsyncSession) -> list[Agency]:
    """Agencies directly under the root(s) that are not districts: departments, centre, police."""
    roots = select(Agency.id).where(Agency.kind == ROOT_KIND)
    rows = await session.scalars(
        select(Agency)
        .where(Agency.parent_id.in_(roots), Agency.kind != DISTRICT_KIND)
        .order_by(Agency.id)
    )
    return list(rows.all())


async def districts(*, session: AsyncSession) -> list[Agency]:
    rows = await session.scalars(
        select(Agency).where(Agency.kind == DISTRICT_KIND).order_by(Agency.id)
    )
    return list(rows.all())


async def children(parent_id: int, *, session: AsyncSession) -> list[Agency]:
    rows = await session.scalars(
        select(Agency).where(Agency.parent_id == parent_id).order_by(Agency.id)
    )
    return list(rows.all())


async def rateable_agencies(*, session: AsyncSession) -> list[Agency]:
    """Every agency a citizen can rate (all but the province itself), for name search."""
    rows = await session.scalars(
        select(Agency).where(Agency.kind != ROOT_KIND).order_by(Agency.id)
    )
    return list(rows.all())


async def desks(*, session: AsyncSession) -> list[Agency]:
    """Where citizens are served at a counter: the centre, one-stop desks and communes."""
    rows = await session.scalars(
        select(Agency).where(Agency.kind.in_(("centre", "desk", "commune"))).order_by(Agency.id)
    )
    return list(rows.all())


async def services_for(agency: Agency, *, session: AsyncSession) -> list[Service]:
    """Services offered by the agency's kind or named for the agency by its code."""
    rows = await session.scalars(select(Service).order_by(Service.id))
    return [s for s in rows.all() if agency.kind in s.offered_by or agency.code in s.offered_by]


async def service_by_id(service_id: int, *, session: AsyncSession) -> Service | None:
    return await session.get(Service, service_id)


async def service_by_code(code: str, *, session: AsyncSession) -> Service | None:
    return await session.scalar(select(Service).where(Service.code == code))
