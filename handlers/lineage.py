"""Reading figures "as of" a structure: a retired unit's figures count under the unit that took
it over, following the successor links to the one that exists on the chosen day.

A unit without a successor (a district: its level is gone) keeps its figures under its own
name. Links that loop are not followed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from storage.agencies import lineage_rows
from storage.directory import is_current


@dataclass(frozen=True, slots=True)
class Lineage:
    """What the roll-up needs of one agency."""

    successor: int | None
    valid_from: date | None
    valid_to: date | None

    def exists_on(self, day: date) -> bool:
        return is_current(self.valid_from, self.valid_to, day)


async def load_lineage(session: AsyncSession) -> dict[int, Lineage]:
    """Every agency's successor and validity, for reading figures as of a structure."""
    return {a: Lineage(s, f, t) for a, s, f, t in await lineage_rows(session=session)}


def heir(agency_id: int, as_of: date, lineage: Mapping[int, Lineage]) -> int:
    """The unit whose figures include `agency_id`'s in the structure of day `as_of`."""
    seen: set[int] = set()
    current = agency_id
    while current not in seen:
        seen.add(current)
        entry = lineage.get(current)
        if entry is None or entry.exists_on(as_of) or entry.successor is None:
            return current
        current = entry.successor
    return agency_id


def roll_up(
    sums: Mapping[int, Mapping[str, int]], as_of: date, lineage: Mapping[int, Lineage]
) -> dict[int, dict[str, int]]:
    """Per-agency sums with each retired agency's added to its heir's."""
    rolled: dict[int, dict[str, int]] = {}
    for agency_id, figures in sums.items():
        into = rolled.setdefault(heir(agency_id, as_of, lineage), dict.fromkeys(figures, 0))
        for name, value in figures.items():
            into[name] = into.get(name, 0) + value
    return rolled


def with_predecessors(
    agency_ids: Iterable[int], as_of: date, lineage: Mapping[int, Lineage]
) -> list[int]:
    """The agencies whose figures count under `agency_ids` as of that day, themselves included."""
    wanted = set(agency_ids)
    return sorted(wanted | {a for a in lineage if heir(a, as_of, lineage) in wanted})


def retired(agency_id: int, as_of: date, lineage: Mapping[int, Lineage]) -> bool:
    """Whether an agency shown in the figures no longer exists on that day: it ended before
    (one that begins later is not retired)."""
    entry = lineage.get(agency_id)
    return entry is not None and entry.valid_to is not None and entry.valid_to <= as_of
