"""messenger ids kept as keyed hashes and sealed, a pseudonym per report

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 08:45:00

Existing rows are converted with the keys the caller passes in `config.attributes["identity"]`
(`feedbackbot db upgrade` does): a database with messenger ids cannot be upgraded without them.
Columns are renamed rather than rebuilt, so rows that refer to citizens and officers stay put.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op

from storage.identity import IdentityKeys

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEALED = sa.String(400)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, pairs in {
        "citizen": (("external_id", "account_ref"), ("pseudonym", "address")),
        "officer": (("user_id", "account_ref"), ("chat_id", "chat_ref")),
        "conversation": (("chat_id", "chat_ref"),),
        "outboxmessage": (("chat_id", "chat_ref"),),
        "agencychat": (("chat_id", "chat_ref"),),
    }.items():
        for old, new in pairs:
            op.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}")
    for table in ("officer", "outboxmessage", "agencychat"):
        op.add_column(table, sa.Column("address", _SEALED, nullable=False, server_default=""))
    op.add_column("report", sa.Column("handle", sa.String(32), nullable=False, server_default=""))
    if postgres:
        op.alter_column("citizen", "address", type_=_SEALED)
        for table in ("officer", "outboxmessage", "agencychat", "report"):
            column = "handle" if table == "report" else "address"
            op.alter_column(table, column, server_default=None)

    _convert_rows()
    op.create_index("ix_outboxmessage_chat_ref", "outboxmessage", ["chat_ref"])
    op.create_index("ix_report_handle", "report", ["handle"], unique=True)


_WITH_IDS = ("citizen", "officer", "conversation", "outboxmessage", "agencychat", "evidence")


def _convert_rows() -> None:
    """Hash and seal every stored id, and give each existing report its own handle."""
    bind = op.get_bind()
    keys: IdentityKeys | None = context.config.attributes.get("identity")
    if keys is None:
        if any(bind.execute(sa.text(f"SELECT 1 FROM {t}")).first() for t in _WITH_IDS):
            raise RuntimeError("stored messenger ids need PSEUDONYM_KEY and ENCRYPTION_KEY")
        return
    for select, update, values in _conversions(keys):
        for row in bind.execute(sa.text(select)).all():
            bind.execute(sa.text(update), values(row))


Conversion = tuple[str, str, Callable[[sa.Row], dict[str, object]]]


def _conversions(keys: IdentityKeys) -> list[Conversion]:
    def by_chat(r: sa.Row) -> dict[str, object]:
        return {
            "channel": r.channel,
            "old": r.chat_ref,
            "chat": keys.ref(r.channel, r.chat_ref),
            "address": keys.seal(r.chat_ref),
        }

    return [
        (
            "SELECT id, channel, account_ref FROM citizen",
            "UPDATE citizen SET account_ref = :ref, address = :address WHERE id = :id",
            lambda r: {
                "id": r.id,
                "ref": keys.ref(r.channel, r.account_ref),
                "address": keys.seal(r.account_ref),
            },
        ),
        (
            "SELECT id, channel, account_ref, chat_ref FROM officer",
            "UPDATE officer SET account_ref = :ref, chat_ref = :chat, address = :address"
            " WHERE id = :id",
            lambda r: {"id": r.id, "ref": keys.ref(r.channel, r.account_ref), **by_chat(r)},
        ),
        (
            "SELECT id, channel, chat_ref FROM outboxmessage",
            "UPDATE outboxmessage SET chat_ref = :chat, address = :address WHERE id = :id",
            lambda r: {"id": r.id, **by_chat(r)},
        ),
        (
            "SELECT channel, chat_ref FROM agencychat",
            "UPDATE agencychat SET chat_ref = :chat, address = :address"
            " WHERE channel = :channel AND chat_ref = :old",
            by_chat,
        ),
        (
            "SELECT channel, chat_ref FROM conversation",
            "UPDATE conversation SET chat_ref = :chat"
            " WHERE channel = :channel AND chat_ref = :old",
            by_chat,
        ),
        (
            "SELECT id, staged_by FROM evidence WHERE staged_by IS NOT NULL",
            "UPDATE evidence SET staged_by = :ref WHERE id = :id",
            lambda r: {"id": r.id, "ref": keys.ref(*r.staged_by.split(":", 1))},
        ),
        (
            "SELECT id, receipt FROM report",
            "UPDATE report SET handle = :handle WHERE id = :id",
            lambda r: {"id": r.id, "handle": keys.handle(r.receipt)},
        ),
    ]


def downgrade() -> None:
    raise NotImplementedError("sealed messenger ids cannot be turned back into plain text")
