"""The body that manages an official: it can move them to other work, and its head settles a
formal denunciation (tố cáo) or a first complaint (khiếu nại) about what they did at work.

That is the official's home agency (an official may serve at another agency's desk), or the one
above it when they head it. For a person only described, the agency the citizen picked stands in
for it, or its parent when it is a desk (a one-stop desk is a part of its parent, not a body of
its own)."""

from __future__ import annotations

from handlers.casework.escalation import handling_agency
from handlers.flow import Turn
from storage import agencies
from storage.models import Agency, Official

DESK_KIND = "desk"


async def managing_agency(turn: Turn, official: Official) -> Agency:
    home = await agencies.agency_by_id(
        official.home_agency_id or official.agency_id, session=turn.session
    )
    assert home is not None, "the directory's foreign key"
    return await handling_agency(home, official, turn)


async def managing_body(turn: Turn, agency: Agency, official: Official | None) -> Agency:
    """The managing body for a report about `official` (None: described or unknown) at
    `agency`."""
    if official is not None:
        return await managing_agency(turn, official)
    if agency.kind == DESK_KIND and agency.parent_id is not None:
        return await agencies.agency_by_id(agency.parent_id, session=turn.session) or agency
    return agency
