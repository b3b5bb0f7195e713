"""Successor links from a pre-2025 directory file to today's units, with `vietnamadminunits`.

Each unit of a level below the province (a district, a commune) is looked up by its address as
the old file writes it ("Ủy ban nhân dân xã Hà Mòn, Ủy ban nhân dân huyện Đắk Hà, tỉnh Kon
Tum"); the library names the commune-level unit that took it over on 1 July 2025. A district has
none (the level is gone): it is listed as unmapped, with any unit the library does not know, for
the operator to map by hand. The old file is rewritten in place of its `successor` keys only,
its comments and layout kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from vietnamadminunits import convert_address

from storage.directory import AgencyEntry, DirectoryFile
from storage.scaffold import unit_code


@dataclass(frozen=True, slots=True)
class Successors:
    """Today's code for each mapped agency; the names of the units left unmapped."""

    links: Mapping[str, str]
    unmapped: list[str]


def find_successors(directory: DirectoryFile) -> Successors:
    """Map the root and every unit of a lower level to today's units."""
    by_code = {a.code: a for a in directory.agencies}
    unit_kinds = {level.kind for level in directory.levels[1:]}
    province = directory.province.name_vi
    links: dict[str, str] = {}
    unmapped: list[str] = []
    for agency in directory.agencies:
        if agency.parent is None:
            found = convert_address(province)
            if found.province_code:
                links[agency.code] = f"{int(found.province_code):02d}"
            continue
        if agency.kind not in unit_kinds:
            continue
        found = convert_address(", ".join([*_names_up(agency, by_code), province]))
        if found.ward_code and found.province_code:
            links[agency.code] = unit_code(int(found.province_code), int(found.ward_code))
        else:
            unmapped.append(agency.name_vi)
    return Successors(links, unmapped)


def _names_up(agency: AgencyEntry, by_code: Mapping[str, AgencyEntry]) -> list[str]:
    """The agency's name and its parents' below the root: the address, innermost first."""
    names: list[str] = []
    current: AgencyEntry | None = agency
    while current is not None and current.parent is not None:
        names.append(current.name_vi)
        current = by_code.get(current.parent)
    return names


def write_successors(source: Path, links: Mapping[str, str], target: Path) -> None:
    """Copy `source` to `target` with each linked agency's `successor` set (after `parent`),
    keeping everything else of the file as written."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), _null)
    data = yaml.load(source.read_text(encoding="utf-8"))
    for agency in data["agencies"]:
        code = str(agency["code"])
        if code not in links:
            continue
        successor = DoubleQuotedScalarString(links[code])
        if "successor" in agency:
            agency["successor"] = successor
        else:
            position = list(agency).index("parent") + 1 if "parent" in agency else len(agency)
            agency.insert(position, "successor", successor)
    with target.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)


def _null(representer: RoundTripRepresenter, _: None) -> ScalarNode:
    """Write an empty value as `null`, as the directory files do."""
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")
