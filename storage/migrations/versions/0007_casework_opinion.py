"""public opinion per official: a home agency, ratings that name the official, review windows

Revision ID: 0007_casework_opinion
Revises: 0007_outbox_claims_notify_tokens
Create Date: 2026-12-05 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007_casework_opinion"
down_revision: str | None = "0007_outbox_claims_notify_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("official", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_agency_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_official_home_agency_id_agency", "agency", ["home_agency_id"], ["id"]
        )
    with op.batch_alter_table("rating", schema=None) as batch_op:
        batch_op.add_column(sa.Column("official_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_rating_official_id_official", "official", ["official_id"], ["id"]
        )
        batch_op.create_index("ix_rating_official_id", ["official_id"])
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("counted_from", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_column("counted_from")
    with op.batch_alter_table("rating", schema=None) as batch_op:
        batch_op.drop_index("ix_rating_official_id")
        batch_op.drop_constraint("fk_rating_official_id_official", type_="foreignkey")
        batch_op.drop_column("official_id")
    with op.batch_alter_table("official", schema=None) as batch_op:
        batch_op.drop_constraint("fk_official_home_agency_id_agency", type_="foreignkey")
        batch_op.drop_column("home_agency_id")
