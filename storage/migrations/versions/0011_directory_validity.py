"""validity dates and successors for agencies, services and officials

Revision ID: 0011_directory_validity
Revises: 0010_directory_levels
Create Date: 2026-12-05 16:00:00

Existing entries get no dates: valid since always, until further notice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_directory_validity"
down_revision: str | None = "0010_directory_levels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SUCCESSORS = ("agency", "service")


def upgrade() -> None:
    for table in ("agency", "service", "official"):
        op.add_column(table, sa.Column("valid_from", sa.Date(), nullable=True))
        op.add_column(table, sa.Column("valid_to", sa.Date(), nullable=True))
    for table in _SUCCESSORS:
        if op.get_bind().dialect.name == "sqlite":
            # SQLite adds a column with a reference in place; Alembic would rebuild the table,
            # which the many tables pointing at agency forbid.
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN successor_id INTEGER REFERENCES {table}(id)"
            )
        else:
            op.add_column(table, sa.Column("successor_id", sa.Integer(), nullable=True))
            op.create_foreign_key(f"fk_{table}_successor", table, table, ["successor_id"], ["id"])


def downgrade() -> None:
    for table in _SUCCESSORS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("successor_id")
    for table in ("agency", "service", "official"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("valid_to")
            batch.drop_column("valid_from")
