"""outbox messages remember how many of their parts went out

Revision ID: 0009_outbox_parts
Revises: 0008_casework_tracks
Create Date: 2026-12-05 15:30:00

A reply too long for one platform message goes out as several; a retry resumes at the first
part not yet sent instead of sending every part again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_outbox_parts"
down_revision: str | None = "0008_casework_tracks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "outboxmessage",
        sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch_op:
        batch_op.drop_column("parts_sent")
