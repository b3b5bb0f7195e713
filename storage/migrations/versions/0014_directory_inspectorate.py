"""the directory's header names the provincial Inspectorate, as it names intake

Revision ID: 0014_directory_inspectorate
Revises: 0013_agency_groups
Create Date: 2026-12-05 17:15:00

Bribe and threat cases are copied to the Inspectorate the directory file names (`inspectorate`
in its header) unless INSPECTORATE_AGENCY_CODE names another: no province's code in the code.
An existing database gets none until the next `feedbackbot directory import`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_directory_inspectorate"
down_revision: str | None = "0013_agency_groups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("directoryheader", sa.Column("inspectorate", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("directoryheader") as batch:
        batch.drop_column("inspectorate")
