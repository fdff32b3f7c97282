"""Slack replay cache: signed Slack requests already accepted within the 5-minute window

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_request_seen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("slack_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_sha256"),
    )
    with op.batch_alter_table("slack_request_seen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slack_request_seen_slack_timestamp"), ["slack_timestamp"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("slack_request_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_request_seen_slack_timestamp"))
    op.drop_table("slack_request_seen")
