"""The groups agencies are ranked in, so a commune is never ranked against a department.

An agency's group is the `group` the directory file gives it; which groups there are, in which
order and under which labels is what the file's header declares. An agency with no group, or with
one today's header does not declare (a former structure's district desk), is ranked with the
other agencies, under `summary.group_other`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage import agencies
from storage.models import Agency

OTHER = "_other"
"""The group of agencies the header gives no declared group."""


@dataclass(frozen=True, slots=True)
class AgencyGroups:
    """The declared groups' labels in one language, in the header's order."""

    labels: dict[str, str]

    @property
    def order(self) -> list[str]:
        return [*self.labels, OTHER]

    def group_of(self, agency: Agency) -> str:
        return agency.group if agency.group in self.labels else OTHER


async def agency_groups(locale: str, *, session: AsyncSession) -> AgencyGroups:
    """The groups the directory's header declares, labelled in `locale`."""
    header = await agencies.directory_header(session=session)
    label = "label_en" if locale == "en" else "label_vi"
    declared = header.groups if header is not None else []
    return AgencyGroups({group["code"]: group[label] for group in declared})
