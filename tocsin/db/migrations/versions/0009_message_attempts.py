"""message attempts: how often a message was tried, when it may be tried again, and when Tocsin gave up

Before this, a refused message was retried on every delivery pass for ever; the retry state now lives in
columns the delivery query can filter on (so messages that are not due never crowd out those that are).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failed_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=True))
    # A message that already failed once before the bookkeeping existed counts as one attempt, due now.
    op.execute("UPDATE outbound_message SET attempts = 1 WHERE sent_at IS NULL AND error IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.drop_column("failed_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
