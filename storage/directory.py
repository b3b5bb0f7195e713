"""The directory of agencies, officials and services, loaded from a YAML file.

Importing is an upsert keyed on codes: running it twice changes nothing, and a changed file
updates names and adds entries without touching ratings. Entries missing from the file are kept,
because ratings and reports point at them; `remove_unlisted` deletes them when nothing does, so
the sample loaded into a development database can be replaced by the real directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from storage.models import Agency, Official, Service

CODE_PATTERN = r"^[A-Za-z0-9-]{1,40}$"
AgencyKind = Literal[
    "province", "centre", "department", "board", "police", "district", "desk", "commune"
]
AGENCY_KINDS: frozenset[str] = frozenset(AgencyKind.__args__)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OfficialEntry(_Entry):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1)
    post_vi: str = Field(min_length=1)
    post_en: str = Field(min_length=1)
    heads: bool = False
    home: str | None = None
    """The code of the agency that employs the official, when it is not the one they serve at."""


class AgencyEntry(_Entry):
    code: str = Field(pattern=CODE_PATTERN)
    name_vi: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    kind: AgencyKind
    parent: str | None = None
    officials: list[OfficialEntry] = Field(default_factory=list)


class ServiceEntry(_Entry):
    code: str = Field(pattern=CODE_PATTERN)
    name_vi: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    group: Literal["procedure", "public_service"]
    offered_by: list[str] = Field(min_length=1)


class DirectoryFile(_Entry):
    as_of: date | None = None
    agencies: list[AgencyEntry]
    services: list[ServiceEntry]

    @model_validator(mode="after")
    def _check_references(self) -> DirectoryFile:
        codes = [a.code for a in self.agencies]
        _require_unique("agency", codes)
        _require_unique("service", [s.code for s in self.services])
        _require_unique("official", [o.code for a in self.agencies for o in a.officials])
        known = set(codes)
        for agency in self.agencies:
            if agency.parent is not None and agency.parent not in known:
                raise ValueError(f"agency {agency.code}: unknown parent {agency.parent}")
            for official in agency.officials:
                if official.home is not None and official.home not in known:
                    raise ValueError(f"official {official.code}: unknown home {official.home}")
        for service in self.services:
            for provider in service.offered_by:
                if provider not in AGENCY_KINDS and provider not in known:
                    raise ValueError(f"service {service.code}: {provider} is no kind or agency")
        return self


def _require_unique(what: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"duplicate {what} code {code}")
        seen.add(code)


Row = TypeVar("Row", Agency, Official, Service)


class DirectoryError(ValueError):
    """The file cannot be read or does not follow the documented format."""


class DirectoryInUse(DirectoryError):
    """Entries the new file leaves out still carry history, so they cannot be removed."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(", ".join(codes))
        self.codes = codes


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int


def read_directory(path: Path) -> DirectoryFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return DirectoryFile.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise DirectoryError(f"{path}: {error}") from error


async def directory_is_empty(*, session: AsyncSession) -> bool:
    return (await session.scalar(select(func.count()).select_from(Agency))) == 0


async def import_directory(directory: DirectoryFile, *, session: AsyncSession) -> ImportResult:
    """Upsert every entry by code. The caller owns the transaction."""
    counter = _Counter()
    agencies = {a.code: a for a in (await session.scalars(select(Agency))).all()}
    for entry in directory.agencies:
        agencies[entry.code] = counter.upsert(
            session,
            agencies.get(entry.code),
            Agency,
            code=entry.code,
            name_vi=entry.name_vi,
            name_en=entry.name_en,
            kind=entry.kind,
        )
    await session.flush()
    for entry in directory.agencies:
        parent = agencies[entry.parent].id if entry.parent else None
        agency = agencies[entry.code]
        if agency.parent_id != parent:
            agency.parent_id = parent
            counter.touch(agency)

    officials = {o.code: o for o in (await session.scalars(select(Official))).all()}
    for entry in directory.agencies:
        for official in entry.officials:
            counter.upsert(
                session,
                officials.get(official.code),
                Official,
                code=official.code,
                agency_id=agencies[entry.code].id,
                name=official.name,
                post_vi=official.post_vi,
                post_en=official.post_en,
                heads=official.heads,
                home_agency_id=agencies[official.home].id if official.home else None,
            )

    services = {s.code: s for s in (await session.scalars(select(Service))).all()}
    for entry in directory.services:
        counter.upsert(
            session,
            services.get(entry.code),
            Service,
            code=entry.code,
            name_vi=entry.name_vi,
            name_en=entry.name_en,
            group=entry.group,
            offered_by=list(entry.offered_by),
        )
    await session.flush()
    return counter.result()


class _Counter:
    """Counts what an import added or changed, so the CLI can say so."""

    def __init__(self) -> None:
        self.added = 0
        self._new: set[int] = set()
        """ids of new agencies, which stay referenced until the end (parents are set later)."""
        self.changed: set[int] = set()
        """ids of existing rows, which the caller's dicts keep alive, so ids are not reused."""
        self.seen = 0

    def upsert(
        self, session: AsyncSession, row: Row | None, model: type[Row], **values: object
    ) -> Row:
        self.seen += 1
        if row is None:
            row = model(**values)
            session.add(row)
            self.added += 1
            self._new.add(id(row))
            return row
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                self.touch(row)
        return row

    def touch(self, row: object) -> None:
        if id(row) not in self._new:
            self.changed.add(id(row))

    def result(self) -> ImportResult:
        updated = len(self.changed)
        return ImportResult(self.added, updated, self.seen - self.added - updated)


_DIRECTORY = (Official, Service, Agency)
"""The directory's tables, in the order their rows can be deleted."""


async def remove_unlisted(directory: DirectoryFile, *, session: AsyncSession) -> int:
    """Delete the agencies, officials and services `directory` does not list, after an import
    of it; all or nothing: if anything outside the directory (a rating, a report, an officer, an
    invite…) points at one of them, raise DirectoryInUse naming them and delete none."""
    listed = {
        Agency: {a.code for a in directory.agencies},
        Official: {o.code for a in directory.agencies for o in a.officials},
        Service: {s.code for s in directory.services},
    }
    unlisted = {
        model: {
            row.id or 0: row.code
            for row in (await session.scalars(select(model).where(model.code.not_in(codes))))
        }
        for model, codes in listed.items()
    }
    in_use = await _referenced(unlisted, session=session)
    if in_use:
        raise DirectoryInUse(sorted(in_use))
    await session.execute(
        update(Agency).where(Agency.id.in_(list(unlisted[Agency]))).values(parent_id=None)
    )
    for model in _DIRECTORY:
        await session.execute(delete(model).where(model.id.in_(list(unlisted[model]))))
    return sum(len(rows) for rows in unlisted.values())


async def _referenced(
    unlisted: dict[type[SQLModel], dict[int, str]], *, session: AsyncSession
) -> set[str]:
    """Codes of the unlisted rows that a table outside the directory points at, found from the
    foreign keys themselves so a table added later is covered too."""
    ids_by_table = {model.__tablename__: rows for model, rows in unlisted.items()}
    inside = set(ids_by_table)
    found: set[str] = set()
    for table in SQLModel.metadata.sorted_tables:
        if table.name in inside:
            continue
        for key in table.foreign_keys:
            rows = ids_by_table.get(key.column.table.name)
            if not rows:
                continue
            column = key.parent
            used = await session.scalars(select(column).where(column.in_(list(rows))).distinct())
            found.update(rows[row_id] for row_id in used)
    return found
