"""dashboard: the projector's position, rollups and what is open now

The tables start empty with the position at the start of the log: the projector (the
worker, or `panjereh dashboard rebuild`) fills them from the events already stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 00:30:34.548353
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import panjereh.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_open_cells",
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("inquiry_type", sa.String(length=32), nullable=False),
        sa.Column("province", sa.String(length=8), nullable=False),
        sa.Column("customs_office", sa.String(length=16), nullable=False),
        sa.Column("hs_chapter", sa.String(length=2), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Integer(), nullable=False),
        sa.Column("value_usd", sa.BigInteger(), nullable=False),
        sa.Column("integrated_to", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "agency",
            "inquiry_type",
            "province",
            "customs_office",
            "hs_chapter",
            name=op.f("pk_dashboard_open_cells"),
        ),
    )
    op.create_table(
        "dashboard_open_declarations",
        sa.Column("declaration_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("province", sa.String(length=8), nullable=False),
        sa.Column("customs_office", sa.String(length=16), nullable=False),
        sa.Column("hs_chapter", sa.String(length=2), nullable=False),
        sa.Column("value_usd", sa.BigInteger(), nullable=False),
        sa.Column("filed_at", panjereh.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("declaration_id", name=op.f("pk_dashboard_open_declarations")),
    )
    op.create_table(
        "dashboard_open_inquiries",
        sa.Column("inquiry_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("inquiry_type", sa.String(length=32), nullable=False),
        sa.Column("province", sa.String(length=8), nullable=False),
        sa.Column("customs_office", sa.String(length=16), nullable=False),
        sa.Column("hs_chapter", sa.String(length=2), nullable=False),
        sa.Column("value_usd", sa.BigInteger(), nullable=False),
        sa.Column("created_at", panjereh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", panjereh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("segment_start", panjereh.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("agency_minutes", sa.Integer(), nullable=False),
        sa.Column("paused_minutes", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("inquiry_id", name=op.f("pk_dashboard_open_inquiries")),
    )
    with op.batch_alter_table("dashboard_open_inquiries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dashboard_open_inquiries_agency_overdue",
            ["agency", "paused", "due_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_dashboard_open_inquiries_overdue", ["paused", "due_at"], unique=False
        )

    op.create_table(
        "dashboard_position",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_at", panjereh.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("projected_at", panjereh.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_position")),
    )
    op.execute(sa.text("INSERT INTO dashboard_position (id, seq) VALUES (1, 0)"))
    op.create_table(
        "dashboard_reasons",
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grain", "agency", "period", "reason", name=op.f("pk_dashboard_reasons")
        ),
    )
    op.create_table(
        "dashboard_rollups",
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("dimension", sa.String(length=8), nullable=False),
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("answered", sa.BigInteger(), nullable=False),
        sa.Column("approved", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("on_time", sa.BigInteger(), nullable=False),
        sa.Column("info_requests", sa.BigInteger(), nullable=False),
        sa.Column("replies", sa.BigInteger(), nullable=False),
        sa.Column("lapsed", sa.BigInteger(), nullable=False),
        sa.Column("withdrawn", sa.BigInteger(), nullable=False),
        sa.Column("agency_minutes", sa.BigInteger(), nullable=False),
        sa.Column("elapsed_minutes", sa.BigInteger(), nullable=False),
        sa.Column("paused_minutes", sa.BigInteger(), nullable=False),
        sa.Column("escalations_1", sa.BigInteger(), nullable=False),
        sa.Column("escalations_2", sa.BigInteger(), nullable=False),
        sa.Column("escalations_3", sa.BigInteger(), nullable=False),
        sa.Column("escalations_4", sa.BigInteger(), nullable=False),
        sa.Column("cleared", sa.BigInteger(), nullable=False),
        sa.Column("clearance_minutes", sa.BigInteger(), nullable=False),
        sa.Column("capital_usd_minutes", sa.BigInteger(), nullable=False),
        sa.Column("value_received_usd", sa.BigInteger(), nullable=False),
        sa.Column("declarations_filed", sa.BigInteger(), nullable=False),
        sa.Column("declarations_refused", sa.BigInteger(), nullable=False),
        sa.Column("declarations_cancelled", sa.BigInteger(), nullable=False),
        sa.Column("goods_capital_usd_minutes", sa.BigInteger(), nullable=False),
        sa.Column("goods_value_filed_usd", sa.BigInteger(), nullable=False),
        sa.Column("hist_agency", sa.LargeBinary(), nullable=False),
        sa.Column("hist_elapsed", sa.LargeBinary(), nullable=False),
        sa.Column("hist_clearance", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grain", "dimension", "agency", "period", "key", name=op.f("pk_dashboard_rollups")
        ),
    )

    op.create_table(
        "dashboard_sign_ins",
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("province", sa.String(length=8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "user_id", name=op.f("pk_dashboard_sign_ins")),
    )


def downgrade() -> None:
    op.drop_table("dashboard_sign_ins")
    op.drop_table("dashboard_rollups")
    op.drop_table("dashboard_reasons")
    op.drop_table("dashboard_position")
    with op.batch_alter_table("dashboard_open_inquiries", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboard_open_inquiries_overdue")
        batch_op.drop_index("ix_dashboard_open_inquiries_agency_overdue")

    op.drop_table("dashboard_open_inquiries")
    op.drop_table("dashboard_open_declarations")
    op.drop_table("dashboard_open_cells")
