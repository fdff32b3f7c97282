"""notice waves, deliveries, suppression list

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tocsin.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "notice_wave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("draft_ids", _json(), nullable=False),
        sa.Column("content_sha256", _json(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("source_name", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("counts", _json(), nullable=False),
        sa.Column("purged_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notice_wave", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_wave_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("jurisdiction", sa.String(length=32), nullable=True),
        sa.Column("substitutions", _json(), nullable=False),
        sa.Column("message_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=120), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("queued_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.ForeignKeyConstraint(["wave_id"], ["notice_wave.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email", "draft_id", name="uq_delivery_email_draft"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index("ix_delivery_wave_status", ["wave_id", "status"], unique=False)

    op.create_table(
        "suppression",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )


def downgrade() -> None:
    op.drop_table("suppression")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_wave_status")
        batch_op.drop_index(batch_op.f("ix_delivery_incident_id"))
    op.drop_table("delivery")
    with op.batch_alter_table("notice_wave", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_wave_incident_id"))
    op.drop_table("notice_wave")
