"""exchange: agency connections, machine credentials, messages, security log

New tables only: agencies stay unconnected (web pages only) until an administrator connects
their systems.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 02:56:24.256781
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import panjereh.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "security_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", panjereh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("agency_code", sa.String(length=16), nullable=True),
        sa.Column("key_id", sa.String(length=24), nullable=True),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
    )
    with op.batch_alter_table("security_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_security_events_at"), ["at"], unique=False)

    op.create_table(
        "agency_connections",
        sa.Column("agency_code", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("endpoint_url", sa.String(length=500), nullable=True),
        sa.Column("signing_secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", panjereh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_agency_connections_agency_code_agencies"),
        ),
        sa.PrimaryKeyConstraint("agency_code", name=op.f("pk_agency_connections")),
    )
    op.create_table(
        "machine_credentials",
        sa.Column("key_id", sa.String(length=24), nullable=False),
        sa.Column("agency_code", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", panjereh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", panjereh.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_machine_credentials_agency_code_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_machine_credentials_user_id_users")
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_machine_credentials")),
    )
    with op.batch_alter_table("machine_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_machine_credentials_agency_code"), ["agency_code"], unique=False
        )

    op.create_table(
        "agency_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("agency_code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("created_at", panjereh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_attempt_at", panjereh.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", panjereh.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dead_at", panjereh.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_code"], ["agencies.code"], name=op.f("fk_agency_messages_agency_code_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["inquiry_id"], ["inquiries.id"], name=op.f("fk_agency_messages_inquiry_id_inquiries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_agency_messages_message_id")),
    )
    with op.batch_alter_table("agency_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agency_messages_inbox", ["agency_code", "delivered_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agency_messages_inquiry_id"), ["inquiry_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("agency_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_messages_inquiry_id"))
        batch_op.drop_index("ix_agency_messages_inbox")

    op.drop_table("agency_messages")
    with op.batch_alter_table("machine_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_machine_credentials_agency_code"))

    op.drop_table("machine_credentials")
    op.drop_table("agency_connections")
    with op.batch_alter_table("security_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_security_events_at"))

    op.drop_table("security_events")
