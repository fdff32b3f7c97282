"""audit legacy boundary: the keyed marker saying which unkeyed audit events may predate the keyed chain

One row (id 1), written by the first process that signs an event with the audit key (`tocsin.audit.boundary`):
the highest audit event id that existed then (0 on a fresh database), the key that signed the marker, when,
and an HMAC with that key. Unkeyed events above the boundary are tampering. The row is not written here: a
migration has no audit key.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_legacy_boundary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("boundary", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("at", tocsin.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("audit_legacy_boundary")
