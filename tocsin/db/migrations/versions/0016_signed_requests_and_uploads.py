"""one replay cache for every signed door (Slack, SendGrid), and who uploaded which launch file

`slack_request_seen` becomes `signed_request_seen`, keyed by door and SHA-256 of `<timestamp>:<body>`, with the
time after which the request is stale anyway (`forget_after`, for pruning). Slack rows still in their 5-minute
window are carried over, so a replay across the upgrade is still refused. `upload` records each
`POST /api/uploads` by person, for the per-person cap on live, unused uploads.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tocsin.db.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLACK_WINDOW_SECONDS = 300  # tocsin.notifications.slack_inbound.MAX_AGE_SECONDS when this was written


def upgrade() -> None:
    op.create_table(
        "signed_request_seen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("door", sa.String(length=16), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
        sa.Column("forget_after", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("door", "request_sha256"),
    )
    with op.batch_alter_table("signed_request_seen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signed_request_seen_forget_after"), ["forget_after"], unique=False)
    op.execute(
        "INSERT INTO signed_request_seen (door, request_sha256, signed_at, forget_after, seen_at) "
        f"SELECT 'slack', request_sha256, slack_timestamp, slack_timestamp + {SLACK_WINDOW_SECONDS}, seen_at "
        "FROM slack_request_seen"
    )
    with op.batch_alter_table("slack_request_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_request_seen_slack_timestamp"))
    op.drop_table("slack_request_seen")

    op.create_table(
        "upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", tocsin.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("upload_id"),
    )
    with op.batch_alter_table("upload", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_upload_uploaded_by"), ["uploaded_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("upload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upload_uploaded_by"))
    op.drop_table("upload")

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
    op.execute(
        "INSERT INTO slack_request_seen (request_sha256, slack_timestamp, seen_at) "
        "SELECT request_sha256, signed_at, seen_at FROM signed_request_seen WHERE door = 'slack'"
    )
    with op.batch_alter_table("signed_request_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signed_request_seen_forget_after"))
    op.drop_table("signed_request_seen")
