"""delivery batches: a batch of delivery rows is marked accepted once, and each row is written once

A wave wrote every delivery row twice: `queued` before its request left, then `accepted` when the provider
took the request. The second write is now one row per batch (`delivery_batch`, up to 1,000 deliveries):
a `queued` delivery whose batch has `accepted_at` reads as accepted (tocsin.wave.status).

Each row written also paid for every index and key on the table. What stays: the primary key, the unique
(email, draft) that makes each send exactly-once, and `ix_delivery_batch_id` (a wave's rows are found
through its batches; an event's row through its address, the first column of the unique index). What
goes: the unique index on message_id (ids are unique by construction: wave, draft and line), the indexes
on incident and wave, and the foreign key from delivery to its wave (the batch has one; the wave writes
the batch and its rows in one transaction, and waves are never deleted). On PostgreSQL these took about
half of the server's work per row.

Rows written before this get one batch per wave (not accepted: they keep their own status).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite's constraints have no name: reflected under this convention so that they can be dropped.
_NAMING = {
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
}


def _named(kind: str, columns: list[str], default: str) -> str:
    inspector = sa.inspect(op.get_bind())
    found = inspector.get_foreign_keys("delivery") if kind == "fk" else inspector.get_unique_constraints("delivery")
    match = next(item for item in found if item["column_names" if kind == "uq" else "constrained_columns"] == columns)
    return match["name"] or default


def upgrade() -> None:
    op.create_table(
        "delivery_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=120), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("accepted_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["wave_id"], ["notice_wave.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delivery_batch_wave_id", "delivery_batch", ["wave_id"], unique=False)
    op.add_column("delivery", sa.Column("batch_id", sa.Integer(), nullable=True))
    op.execute(
        "INSERT INTO delivery_batch (wave_id, attempts) SELECT DISTINCT wave_id, 0 FROM delivery ORDER BY wave_id"
    )
    op.execute(
        "UPDATE delivery SET batch_id = (SELECT min(b.id) FROM delivery_batch b WHERE b.wave_id = delivery.wave_id)"
    )
    wave_key = _named("fk", ["wave_id"], "fk_delivery_wave_id_notice_wave")
    message_key = _named("uq", ["message_id"], "uq_delivery_message_id")
    with op.batch_alter_table("delivery", schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.drop_constraint(wave_key, type_="foreignkey")
        batch_op.drop_constraint(message_key, type_="unique")
        batch_op.drop_index("ix_delivery_incident_id")
        batch_op.drop_index("ix_delivery_wave_id")
        batch_op.alter_column("batch_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_delivery_batch_id", ["batch_id"], unique=False)


def downgrade() -> None:
    # Rows accepted through their batch get the status their batch gave them before the batch goes.
    op.execute(
        "UPDATE delivery SET status = 'accepted', accepted_at = (SELECT b.accepted_at FROM delivery_batch b "
        "WHERE b.id = delivery.batch_id), provider_id = (SELECT b.provider_id FROM delivery_batch b WHERE "
        "b.id = delivery.batch_id) WHERE status = 'queued' AND batch_id IN (SELECT id FROM delivery_batch "
        "WHERE accepted_at IS NOT NULL)"
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_batch_id")
        batch_op.drop_column("batch_id")
        batch_op.create_index("ix_delivery_wave_id", ["wave_id"], unique=False)
        batch_op.create_index("ix_delivery_incident_id", ["incident_id"], unique=False)
        batch_op.create_unique_constraint("uq_delivery_message_id", ["message_id"])
        batch_op.create_foreign_key("fk_delivery_wave_id_notice_wave", "notice_wave", ["wave_id"], ["id"])
    op.drop_index("ix_delivery_batch_wave_id", table_name="delivery_batch")
    op.drop_table("delivery_batch")
