"""ratings outlive their link to the citizen (retention keeps the statistics)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rating", schema=None) as batch_op:
        batch_op.alter_column("citizen_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM rating WHERE citizen_id IS NULL")
    with op.batch_alter_table("rating", schema=None) as batch_op:
        batch_op.alter_column("citizen_id", existing_type=sa.Integer(), nullable=False)
