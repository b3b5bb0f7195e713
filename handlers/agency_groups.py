"""The groups agencies are ranked in, so a commune is never ranked against a department.

The directory does not name groups yet, so an agency's group follows its level: provincial
departments, boards and sectors; the one-stop desks and the service centre; district People's
Committees; commune People's Committees."""

from __future__ import annotations

from storage.models import Agency

GROUPS = ("provincial", "one_stop", "district", "commune")
_BY_KIND = {
    "province": "provincial",
    "department": "provincial",
    "board": "provincial",
    "police": "provincial",
    "centre": "one_stop",
    "desk": "one_stop",
    "district": "district",
    "commune": "commune",
}


def group_of(agency: Agency) -> str:
    return _BY_KIND.get(agency.kind, "provincial")
