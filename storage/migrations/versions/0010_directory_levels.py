"""the directory's header: the province's name and its levels

Revision ID: 0010_directory_levels
Revises: 0009_outbox_parts
Create Date: 2026-12-05 15:40:00

An existing database gets an empty header: the next `feedbackbot directory import` fills it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_directory_levels"
down_revision: str | None = "0009_outbox_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directoryheader",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("province_vi", sa.String(), nullable=False),
        sa.Column("province_en", sa.String(), nullable=False),
        sa.Column("intake", sa.String(40), nullable=True),
        sa.Column("levels", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("directoryheader")
