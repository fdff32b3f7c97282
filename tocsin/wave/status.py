"""How a delivery's status is read: its own status, except that a `queued` row whose batch the provider
accepted was accepted with it (the batch is marked once instead of each of its rows; see
models/delivery.py). Every reader of delivery statuses goes through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select
from sqlmodel import Session

from tocsin.models.delivery import Delivery, DeliveryBatch, NoticeWave
from tocsin.models.enums import DeliveryStatus

DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
BATCHES = DeliveryBatch.__table__  # type: ignore[attr-defined]
WAVES = NoticeWave.__table__  # type: ignore[attr-defined]

# The values as plain strings: the wave's hot path and hand-written SQL compare and write these.
QUEUED, ACCEPTED, FAILED = DeliveryStatus.queued.value, DeliveryStatus.accepted.value, DeliveryStatus.failed.value
SKIPPED = DeliveryStatus.skipped.value
# Statuses meaning the provider took the message: never sent again.
SENT_STATUSES = frozenset(
    s.value
    for s in (
        DeliveryStatus.accepted,
        DeliveryStatus.delivered,
        DeliveryStatus.bounced,
        DeliveryStatus.dropped,
        DeliveryStatus.spamreport,
        DeliveryStatus.unsubscribed,
    )
)

STATUS: ColumnElement[str] = case(
    (and_(DELIVERIES.c.status == literal(QUEUED), BATCHES.c.accepted_at.is_not(None)), literal(ACCEPTED)),
    else_=DELIVERIES.c.status,
)
WITH_BATCH = DELIVERIES.join(BATCHES, BATCHES.c.id == DELIVERIES.c.batch_id)

# The same as SQL text, for the wave's hand-written statements (`d` is delivery, `b` its batch).
STATUS_SQL = f"CASE WHEN d.status = '{QUEUED}' AND b.accepted_at IS NOT NULL THEN '{ACCEPTED}' ELSE d.status END"
WITH_BATCH_SQL = f"{DELIVERIES.name} d JOIN {BATCHES.name} b ON b.id = d.batch_id"
# A queued row whose batch's request left (posted) and was never answered, with no decision yet: in doubt
# (see tocsin.wave.journal). 1 or 0.
IN_DOUBT_SQL = (
    f"CASE WHEN d.status = '{QUEUED}' AND b.posted_at IS NOT NULL AND b.accepted_at IS NULL "
    "AND b.decision IS NULL THEN 1 ELSE 0 END"
)


def of_wave(wave_id: int) -> ColumnElement[bool]:
    """Deliveries a wave last handed to the provider, found through its batches (with WITH_BATCH)."""
    return BATCHES.c.wave_id == wave_id


def of_incident(incident_id: int) -> ColumnElement[bool]:
    """Deliveries of an incident, found through its waves' batches (with WITH_BATCH; see migration 0010)."""
    return BATCHES.c.wave_id.in_(select(WAVES.c.id).where(WAVES.c.incident_id == incident_id).scalar_subquery())


def batch_ids_of_wave(wave_id: int) -> Any:
    """The ids of a wave's batches, for statements on the delivery table alone (a DELETE)."""
    return select(BATCHES.c.id).where(BATCHES.c.wave_id == wave_id).scalar_subquery()


def counted_by(key: Any, condition: ColumnElement[bool]) -> Select[Any]:
    """(key, status, number of rows) for the deliveries meeting `condition`."""
    return (
        select(key, STATUS.label("status"), func.count()).select_from(WITH_BATCH).where(condition).group_by(key, STATUS)
    )


def status_counts(session: Session, key: Any, condition: ColumnElement[bool]) -> dict[Any, dict[str, int]]:
    """key value -> status -> number of delivery rows (one grouped query)."""
    counts: dict[Any, dict[str, int]] = {}
    for value, status, count in session.execute(counted_by(key, condition)):
        counts.setdefault(value, {})[str(status)] = int(count)
    return counts


def statuses_by_message(
    session: Session, messages: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, Any]]:
    """(address, message id) -> (status, time of the newest provider event), for the pairs the provider's
    events name: found through the address (the unique index's first column), then matched on the id."""
    wanted = set(messages)
    statement = (
        select(DELIVERIES.c.email, DELIVERIES.c.message_id, STATUS.label("status"), DELIVERIES.c.status_at)
        .select_from(WITH_BATCH)
        .where(DELIVERIES.c.email.in_(sorted({email for email, _ in wanted})))
    )
    found: dict[tuple[str, str], tuple[str, Any]] = {}
    for email, message_id, status, status_at in session.execute(statement):
        if (email, message_id) in wanted:
            found[(email, message_id)] = (status, status_at)
    return found
