"""wave performance: delivery rows indexed by wave only (status out of every index), room for HOT updates,
and no second foreign key to the incident

Marking a row `accepted` changes its status: with status in an index, every update wrote a new entry in
each of the table's indexes. Indexed by wave alone, the update changes no indexed column, and on
PostgreSQL a fillfactor of 50 leaves room in each page for the row's new version (a HOT update: no index
is touched at all). `delivery.incident_id` repeats its wave's incident (`notice_wave.incident_id`, itself
a foreign key): its own foreign key checked the same thing again for every row written, about a quarter
of PostgreSQL's work per row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite's foreign keys have no name: reflected under this convention so that one can be dropped.
_NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _incident_key() -> str:
    keys = sa.inspect(op.get_bind()).get_foreign_keys("delivery")
    found = next(key for key in keys if key["constrained_columns"] == ["incident_id"])
    return found["name"] or "fk_delivery_incident_id_incident"  # unnamed (SQLite): named by _NAMING


def upgrade() -> None:
    incident_key = _incident_key()
    with op.batch_alter_table("delivery", schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.drop_constraint(incident_key, type_="foreignkey")
        batch_op.drop_index("ix_delivery_wave_status")
        batch_op.create_index("ix_delivery_wave_id", ["wave_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE delivery SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE delivery RESET (fillfactor)")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_wave_id")
        batch_op.create_index("ix_delivery_wave_status", ["wave_id", "status"], unique=False)
        batch_op.create_foreign_key("delivery_incident_id_fkey", "incident", ["incident_id"], ["id"])
