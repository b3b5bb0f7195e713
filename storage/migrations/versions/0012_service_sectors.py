"""services by sector; a rating's one-stop facts may be absent

Revision ID: 0012_service_sectors
Revises: 0011_directory_validity
Create Date: 2026-12-05 16:10:00

A service's `group` (procedure, public_service) becomes its `sector` (administrative, health,
education, other): health and education are rated with questions of their own and reported apart,
as SIPAS reports administrative procedures. Public services already stored count as "other"
until the directory is imported again. Hospitals and schools have no appointment slip, extra
papers, trips or submission channel, so those answers become optional.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_service_sectors"
down_revision: str | None = "0011_directory_validity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FACTS = {"timeliness": sa.String(12), "extra_papers": sa.String(12), "trips": sa.Integer(),
          "submission": sa.String(12)}  # fmt: skip


def upgrade() -> None:
    op.execute('ALTER TABLE service RENAME COLUMN "group" TO sector')
    op.execute(
        "UPDATE service SET sector = CASE sector WHEN 'procedure' THEN 'administrative'"
        " ELSE 'other' END"
    )
    with op.batch_alter_table("rating") as batch:
        for name, kind in _FACTS.items():
            batch.alter_column(name, existing_type=kind, nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("rating") as batch:
        for name, kind in _FACTS.items():
            batch.alter_column(name, existing_type=kind, nullable=False)
    op.execute(
        "UPDATE service SET sector = CASE sector WHEN 'administrative' THEN 'procedure'"
        " ELSE 'public_service' END"
    )
    op.execute('ALTER TABLE service RENAME COLUMN sector TO "group"')
