"""notice wave: the request in flight and in-doubt holds

A wave's delivery batch (one SendGrid request as a rule) is marked `posted_at` and committed right before
its request leaves, by the process that sends it; its answer is marked before the next request leaves. A
batch posted and never answered (the wave was killed while its request was in flight) is in doubt: the
next run holds its rows (`held_at`) instead of sending them again, until someone decides (`decision`:
resend or skip, by `decided_by` at `decided_at`, with a `reason`).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posted_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("held_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decision", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("decided_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
    with op.batch_alter_table("reminder_sent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=True))
    # reminders recorded before this were delivered in the same pass
    op.execute("UPDATE reminder_sent SET delivered_at = sent_at")


def downgrade() -> None:
    with op.batch_alter_table("reminder_sent", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
    with op.batch_alter_table("delivery_batch", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("decision")
        batch_op.drop_column("held_at")
        batch_op.drop_column("posted_at")
