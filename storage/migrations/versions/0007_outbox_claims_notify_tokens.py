"""outbox claims with a lease; notification buttons in their own table

Revision ID: 0007_outbox_claims_notify_tokens
Revises: 0006
Create Date: 2026-12-05 15:40:00

Several worker processes share one database: a dispatcher claims the messages it delivers
(`claimed_by`, `claimed_until`), and a turn that sends buttons to another chat writes a
`notifytoken` row instead of changing that chat's conversation. Buttons already waiting in
conversations are moved over, so they keep working.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007_outbox_claims_notify_tokens"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIONS = "actions"


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch_op.add_column(
            sa.Column("claimed_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    tokens = op.create_table(
        "notifytoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("chat_ref", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "chat_ref", "token"),
    )
    _move_tokens(tokens)


def _move_tokens(tokens: sa.Table) -> None:
    """Buttons stored in conversations (the old place) become rows of their own."""
    conversation = sa.table(
        "conversation", sa.column("channel"), sa.column("chat_ref"), sa.column("data", sa.JSON)
    )
    bind = op.get_bind()
    now = datetime.now(UTC)
    for channel, chat_ref, data in bind.execute(
        sa.select(conversation.c.channel, conversation.c.chat_ref, conversation.c.data)
    ).all():
        if not data or not data.get(_ACTIONS):
            continue
        rows = [
            {"channel": channel, "chat_ref": chat_ref, "token": token, "targets": targets}
            for token, targets in data[_ACTIONS].items()
        ]
        bind.execute(sa.insert(tokens), [row | {"created_at": now} for row in rows])
        rest = {key: value for key, value in data.items() if key != _ACTIONS}
        bind.execute(
            sa.update(conversation)
            .where(conversation.c.channel == channel, conversation.c.chat_ref == chat_ref)
            .values(data=rest)
        )


def downgrade() -> None:
    op.drop_table("notifytoken")
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
