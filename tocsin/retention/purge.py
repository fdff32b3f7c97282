"""Removing notice recipients' personal data after the retention period (`recipient_retention_days`).

A wave's delivery rows (address, name, tag values) are deleted once the wave ended more than the
retention period ago; the wave keeps its counts, including how many rows ended in each status, and the
timeline records the purge. The suppression list is kept: it is the record of who must not be written to.
Drafts of a purged wave cannot be sent again (who already got them is no longer known).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.incidents.service import get_incident
from tocsin.models.delivery import NoticeWave
from tocsin.wave.status import BATCHES, DELIVERIES, batch_ids_of_wave, of_wave, status_counts


@dataclass(frozen=True)
class PurgedWave:
    wave_id: int
    incident_id: int
    rows: int


def purge_recipient_data(
    session: Session, *, now: datetime, retention_days: int, actor: str, dry_run: bool = False
) -> list[PurgedWave]:
    """Delete the delivery rows of every wave that ended before `now - retention_days`."""
    cutoff = now - timedelta(days=retention_days)
    waves = session.exec(
        select(NoticeWave)
        .where(col(NoticeWave.purged_at).is_(None))
        .where(func.coalesce(NoticeWave.finished_at, NoticeWave.started_at) <= cutoff)
        .order_by(col(NoticeWave.id))
    ).all()
    purged: list[PurgedWave] = []
    for wave in waves:
        statuses = status_counts(session, BATCHES.c.wave_id, of_wave(wave.id or 0)).get(wave.id, {})
        rows = sum(statuses.values())
        purged.append(PurgedWave(wave.id or 0, wave.incident_id, rows))
        if dry_run:
            continue
        session.execute(delete(DELIVERIES).where(DELIVERIES.c.batch_id.in_(batch_ids_of_wave(wave.id or 0))))
        session.execute(delete(BATCHES).where(BATCHES.c.wave_id == wave.id))
        statuses = {str(k): int(v) for k, v in statuses.items()}
        wave.counts = {**wave.counts, **{f"final_{status}": count for status, count in sorted(statuses.items())}}
        wave.purged_at = now
        session.add(wave)
        append_event(
            session,
            get_incident(session, wave.incident_id),
            actor=actor,
            action="notice.recipients_purged",
            payload={"wave": wave.id, "rows": rows, "retention_days": retention_days, "statuses": statuses},
        )
    return purged
