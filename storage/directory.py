"""The directory of agencies, officials and services, loaded from a YAML file.

Importing is an upsert keyed on codes: running it twice changes nothing, and a changed file
updates names and adds entries without touching ratings. Entries missing from the file are kept,
because ratings and reports point at them; `remove_unlisted` deletes them when nothing does, so
the sample loaded into a development database can be replaced by the real directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from storage.models import Agency, DirectoryHeader, Official, Service

CODE_PATTERN = r"^[A-Za-z0-9-]{1,40}$"
KIND_PATTERN = r"^[a-z_]{1,20}$"
Sector = Literal["administrative", "health", "education", "other"]
SECTORS: tuple[str, ...] = Sector.__args__
"""Administrative procedures, and public services: health, education, other (roads, order)."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProvinceEntry(_Entry):
    """The province as the notices name it ("tỉnh …"), which no catalog may hard-code."""

    name_vi: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class LevelEntry(_Entry):
    """One level of government: the agencies of `kind` are its units. `label` names the level
    on the picker's first buttons; `unit` names one of its units in the picker's question."""

    kind: str = Field(pattern=KIND_PATTERN)
    label_vi: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    unit_vi: str = Field(min_length=1)
    unit_en: str = Field(min_length=1)


class GroupEntry(_Entry):
    """A group of agencies summaries rank together, such as the provincial departments."""

    code: str = Field(pattern=KIND_PATTERN)
    label_vi: str = Field(min_length=1)
    label_en: str = Field(min_length=1)


class _Dated(_Entry):
    """`valid_from` is the first day an entry exists; `valid_to` the first day it no longer does
    (1 July 2025 for the units the reform merged). Empty: since always, until further notice."""

    valid_from: date | None = None
    valid_to: date | None = None

    @model_validator(mode="after")
    def _check_dates(self) -> _Dated:
        if self.valid_from and self.valid_to and self.valid_from >= self.valid_to:
            raise ValueError("valid_from must come before valid_to")
        return self


class OfficialEntry(_Dated):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1)
    post_vi: str = Field(min_length=1)
    post_en: str = Field(min_length=1)
    heads: bool = False
    home: str | None = None
    """The code of the agency that employs the official, when it is not the one they serve at."""


class _Named(_Dated):
    """An agency or a service: a code, and its name in each language."""

    code: str = Field(pattern=CODE_PATTERN)
    name_vi: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class AgencyEntry(_Named):
    kind: str = Field(pattern=KIND_PATTERN)
    parent: str | None = None
    group: str | None = Field(default=None, pattern=KIND_PATTERN)
    """One of the file's `groups`."""
    successor: str | None = Field(default=None, pattern=CODE_PATTERN)
    """The agency that took over, in this file or already in the database."""
    officials: list[OfficialEntry] = Field(default_factory=list)


class ServiceEntry(_Named):
    sector: Sector
    offered_by: list[str] = Field(min_length=1)
    successor: str | None = Field(default=None, pattern=CODE_PATTERN)


class DirectoryFile(_Dated):
    """`valid_from` and `valid_to` here are the defaults of every entry: a file of a former
    structure says `valid_to` once, and importing it leaves the current header alone."""

    as_of: date | None = None
    province: ProvinceEntry
    intake: str | None = Field(default=None, pattern=CODE_PATTERN)
    """The intake agency (the Department of Home Affairs): copied on cases, names the data
    controller in the privacy notice."""
    inspectorate: str | None = Field(default=None, pattern=CODE_PATTERN)
    """The provincial Inspectorate (Thanh tra tỉnh): copied on bribe and threat cases."""
    levels: list[LevelEntry] = Field(min_length=1)
    """From the top down: the province's own level first, then each level below it."""
    groups: list[GroupEntry] = Field(default_factory=list)
    counters: list[str] = Field(default_factory=list)
    """The kinds of agency where citizens are served at a counter (for QR posters)."""
    agencies: list[AgencyEntry]
    services: list[ServiceEntry]

    @model_validator(mode="after")
    def _check_references(self) -> DirectoryFile:
        codes = [a.code for a in self.agencies]
        _require_unique("agency", codes)
        _require_unique("service", [s.code for s in self.services])
        _require_unique("official", [o.code for a in self.agencies for o in a.officials])
        _require_unique("level", [level.kind for level in self.levels])
        _require_unique("group", [group.code for group in self.groups])
        groups = {group.code for group in self.groups}
        known = set(codes)
        kinds = {a.kind for a in self.agencies}
        top = self.levels[0].kind
        for agency in self.agencies:
            if agency.parent is not None and agency.parent not in known:
                raise ValueError(f"agency {agency.code}: unknown parent {agency.parent}")
            for official in agency.officials:
                if official.home is not None and official.home not in known:
                    raise ValueError(f"official {official.code}: unknown home {official.home}")
            if agency.group is not None and agency.group not in groups:
                raise ValueError(f"agency {agency.code}: unknown group {agency.group}")
            if (agency.parent is None) != (agency.kind == top):
                raise ValueError(f"agency {agency.code}: only the {top} level has no parent")
        if self.intake is not None and self.intake not in known:
            raise ValueError(f"intake {self.intake} is no agency of the file")
        if self.inspectorate is not None and self.inspectorate not in known:
            raise ValueError(f"inspectorate {self.inspectorate} is no agency of the file")
        for counter in self.counters:
            if counter not in kinds:
                raise ValueError(f"counters: no agency is of kind {counter}")
        for service in self.services:
            for provider in service.offered_by:
                if provider not in kinds and provider not in known:
                    raise ValueError(f"service {service.code}: {provider} is no kind or agency")
        return self

    def dates(self, entry: _Dated) -> dict[str, date | None]:
        """An entry's validity, the file's where the entry gives none."""
        return {
            "valid_from": entry.valid_from or self.valid_from,
            "valid_to": entry.valid_to or self.valid_to,
        }

    def naming(self, entry: _Named) -> dict[str, str | date | None]:
        """What an agency's or a service's row copies alike from its entry: the code, the
        names and the validity."""
        names = {"code": entry.code, "name_vi": entry.name_vi, "name_en": entry.name_en}
        return {**names, **self.dates(entry)}


def _require_unique(what: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"duplicate {what} code {code}")
        seen.add(code)


Row = TypeVar("Row", Agency, Official, Service)
DirectoryModel = type[Agency] | type[Official] | type[Service]


class DirectoryError(ValueError):
    """The file cannot be read or does not follow the documented format."""


class DirectoryInUse(DirectoryError):
    """Entries the new file leaves out still carry history, so they cannot be removed."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(", ".join(codes))
        self.codes = codes


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The diff of an import, by code: shown before anything is kept (`--dry-run`) and after."""

    added: list[str]
    updated: list[str]
    retired: list[str]
    """Entries current before the import and not after it."""
    unchanged: int


def read_directory(path: Path) -> DirectoryFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return DirectoryFile.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise DirectoryError(f"{path}: {error}") from error


async def directory_is_empty(*, session: AsyncSession) -> bool:
    return (await session.scalar(select(func.count()).select_from(Agency))) == 0


async def import_directory(
    directory: DirectoryFile, *, today: date, session: AsyncSession
) -> ImportResult:
    """Upsert every entry by code; a current file replaces the header, a file of a former
    structure (with its own `valid_to`) leaves the services already known alone. The caller
    owns the transaction (and rolls it back for a dry run)."""
    if directory.valid_to is None or await session.get(DirectoryHeader, 1) is None:
        await session.merge(
            DirectoryHeader(
                id=1,
                province_vi=directory.province.name_vi,
                province_en=directory.province.name_en,
                intake=directory.intake,
                inspectorate=directory.inspectorate,
                levels=[level.model_dump() for level in directory.levels],
                groups=[group.model_dump() for group in directory.groups],
                counters=list(directory.counters),
            )
        )
    counter = _Counter(today)
    agencies = {a.code: a for a in (await session.scalars(select(Agency))).all()}
    for entry in directory.agencies:
        agencies[entry.code] = counter.upsert(
            session,
            agencies.get(entry.code),
            Agency,
            kind=entry.kind,
            group=entry.group,
            **directory.naming(entry),
        )
    await session.flush()
    for entry in directory.agencies:
        agency = agencies[entry.code]
        counter.link(agency, "parent_id", _id_of(agencies, entry.parent, entry.code))
        counter.link(agency, "successor_id", _id_of(agencies, entry.successor, entry.code))

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
                **directory.dates(official),
            )

    services = {s.code: s for s in (await session.scalars(select(Service))).all()}
    # A procedure outlives a structure: a former structure's file only adds the ones unknown.
    own = [e for e in directory.services if directory.valid_to is None or e.code not in services]
    for entry in own:
        services[entry.code] = counter.upsert(
            session,
            services.get(entry.code),
            Service,
            sector=entry.sector,
            offered_by=list(entry.offered_by),
            **directory.naming(entry),
        )
    await session.flush()
    for entry in own:
        successor = _id_of(services, entry.successor, entry.code)
        counter.link(services[entry.code], "successor_id", successor)
    await session.flush()
    return counter.result()


def _id_of(
    rows: Mapping[str, Agency] | Mapping[str, Service], code: str | None, of: str
) -> int | None:
    """The id of the entry `code` names (in the file or the database), for a link of `of`."""
    if code is None:
        return None
    row = rows.get(code)
    if row is None:
        raise DirectoryError(f"{of}: {code} is in neither the file nor the database")
    return row.id


def is_current(valid_from: date | None, valid_to: date | None, on: date) -> bool:
    """Whether an entry with these dates exists on day `on`."""
    return (valid_from is None or valid_from <= on) and (valid_to is None or on < valid_to)


def current_on(model: DirectoryModel, on: date) -> ColumnElement[bool]:
    """The SQL of `is_current`, for the pickers' queries."""
    valid_from, valid_to = col(model.valid_from), col(model.valid_to)
    return and_(
        or_(valid_from.is_(None), valid_from <= on), or_(valid_to.is_(None), valid_to > on)
    )


class _Counter:
    """Collects the codes an import adds, changes and retires, so the CLI can show the diff."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.added: list[str] = []
        self._new: set[int] = set()
        """ids of new rows, which stay referenced until the end (links are set later)."""
        self.changed: dict[int, str] = {}
        """Codes of existing rows by id(), which the caller's dicts keep alive."""
        self.retired: list[str] = []
        self.seen = 0

    def upsert(
        self, session: AsyncSession, row: Row | None, model: type[Row], **values: Any
    ) -> Row:
        self.seen += 1
        if row is None:
            row = model(**values)
            session.add(row)
            self.added.append(row.code)
            self._new.add(id(row))
            return row
        was_current = is_current(row.valid_from, row.valid_to, self.today)
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                self.touch(row)
        if was_current and not is_current(row.valid_from, row.valid_to, self.today):
            self.retired.append(row.code)
        return row

    def link(self, row: Agency | Service, name: str, value: int | None) -> None:
        if getattr(row, name) != value:
            setattr(row, name, value)
            self.touch(row)

    def touch(self, row: Agency | Official | Service) -> None:
        if id(row) not in self._new:
            self.changed[id(row)] = row.code

    def result(self) -> ImportResult:
        updated = [c for c in self.changed.values() if c not in self.retired]
        unchanged = self.seen - len(self.added) - len(self.changed)
        return ImportResult(self.added, updated, self.retired, unchanged)


async def retire_unlisted(
    directory: DirectoryFile, *, today: date, session: AsyncSession
) -> list[str]:
    """End today the current agencies, officials and services `directory` does not list (the
    explicit `--retire-unlisted`): they leave the pickers, their history stays."""
    listed = _listed(directory)
    retired: list[str] = []
    for model, codes in listed.items():
        rows = await session.scalars(select(model).where(model.code.not_in(codes)))
        for row in rows:
            if is_current(row.valid_from, row.valid_to, today):
                row.valid_to = today
                retired.append(row.code)
    await session.flush()
    return retired


def _listed(
    directory: DirectoryFile,
) -> dict[type[Agency] | type[Official] | type[Service], set[str]]:
    return {
        Agency: {a.code for a in directory.agencies},
        Official: {o.code for a in directory.agencies for o in a.officials},
        Service: {s.code for s in directory.services},
    }


_DIRECTORY = (Official, Service, Agency)
"""The directory's tables, in the order their rows can be deleted."""


async def remove_unlisted(directory: DirectoryFile, *, session: AsyncSession) -> int:
    """Delete the agencies, officials and services `directory` does not list, after an import
    of it; all or nothing: if anything outside the directory (a rating, a report, an officer, an
    invite…) points at one of them, raise DirectoryInUse naming them and delete none."""
    listed = _listed(directory)
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
