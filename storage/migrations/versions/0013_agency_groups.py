"""agencies in groups named by the directory file; the kinds that serve at a counter

Revision ID: 0013_agency_groups
Revises: 0012_service_sectors
Create Date: 2026-12-05 16:20:00

A group (provincial departments, commune People's Committees, public service units…) is what
summaries rank agencies by; its labels are in the directory's header, like the levels'. The
header also names the kinds of agency that serve citizens at a counter (QR posters for all).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_agency_groups"
down_revision: str | None = "0012_service_sectors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("agency", sa.Column("group", sa.String(30), nullable=True))
    for name in ("groups", "counters"):
        op.add_column(
            "directoryheader", sa.Column(name, sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("directoryheader") as batch:
        batch.drop_column("counters")
        batch.drop_column("groups")
    with op.batch_alter_table("agency") as batch:
        batch.drop_column("group")
