"""one-time links and sessions of the web dashboard

Revision ID: 0015_dashboard_logins
Revises: 0014_directory_inspectorate
Create Date: 2026-12-05 18:40:00

An admin asks for a link in chat (/dashboard); the link's token is kept only as a hash, is
taken once, and the session it opens ends when it expires or the admin signs out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015_dashboard_logins"
down_revision: str | None = "0014_directory_inspectorate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboardlogin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("link_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("session_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dashboardlogin") as batch:
        batch.create_index("ix_dashboardlogin_token_hash", ["token_hash"], unique=True)
        batch.create_index("ix_dashboardlogin_officer_id", ["officer_id"], unique=False)


def downgrade() -> None:
    op.drop_table("dashboardlogin")
