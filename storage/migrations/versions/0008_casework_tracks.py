"""casework tracks: a deadline extended once, a flagged case copied to the Inspectorate, the
personnel measure of an assignment

Revision ID: 0008_casework_tracks
Revises: 0007_casework_opinion
Create Date: 2026-12-05 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_casework_tracks"
down_revision: str | None = "0007_casework_opinion"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("casefile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("extended_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("copied_to", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_casefile_copied_to_agency", "agency", ["copied_to"], ["id"]
        )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("measure", sa.String(12), nullable=False, server_default="reassign")
        )


def downgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_column("measure")
    with op.batch_alter_table("casefile", schema=None) as batch_op:
        batch_op.drop_constraint("fk_casefile_copied_to_agency", type_="foreignkey")
        batch_op.drop_column("copied_to")
        batch_op.drop_column("extended_days")
