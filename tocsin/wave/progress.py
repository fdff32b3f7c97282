"""Where an incident's notice waves stand: one row per run, with live counts while it runs (read from its
delivery rows, which the wave commits chunk by chunk) and the run's report once it has finished.

One view for `tocsin waves` and the console's wave page.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from tocsin.core.clocks import iso_utc
from tocsin.incidents.service import get_incident
from tocsin.models.enums import WaveStatus
from tocsin.wave.run import delivery_status_counts, wave_status
from tocsin.wave.status import BATCHES, FAILED, QUEUED, SENT_STATUSES, of_incident, status_counts

# The report's outcomes, in the order a progress bar shows them; then those only a crash brings, shown when a
# run has any: rows held in doubt (waiting for a decision) and rows someone decided to skip.
OUTCOMES = ("sent", "already_sent", "suppressed", "invalid", "failed")
AFTER_A_CRASH = ("held", "skipped")


def live_counts(session: Session, incident_id: int) -> dict[int, dict[str, int]]:
    """wave id -> delivery status -> rows that this run last handed to the provider (one grouped query)."""
    counts = status_counts(session, BATCHES.c.wave_id, of_incident(incident_id))
    return {int(wave_id): statuses for wave_id, statuses in counts.items()}


def progress(status: str, counts: dict[str, int], live: dict[str, int]) -> dict[str, Any]:
    """Pure: how far a run got. A finished run: each outcome's share of the file's rows. A running run: what
    its delivery rows say so far (the file's size is known only at the end, so no fraction then)."""
    if status == WaveStatus.running or not counts:
        accepted = sum(n for s, n in live.items() if s in SENT_STATUSES)
        return {
            "done": False,
            "fraction": None,
            "sent": accepted,
            "in_flight": live.get(QUEUED, 0),
            "failed": live.get(FAILED, 0),
            "segments": [],
        }
    rows = counts.get("rows", 0)
    shown = OUTCOMES + tuple(k for k in AFTER_A_CRASH if counts.get(k, 0))
    handled = sum(counts.get(k, 0) for k in shown)
    return {
        "done": True,
        "fraction": min(1.0, handled / rows) if rows else 1.0,
        "sent": counts.get("sent", 0),
        "in_flight": 0,
        "failed": counts.get("failed", 0),
        "segments": [
            {"outcome": k, "count": counts.get(k, 0), "share": counts.get(k, 0) / rows if rows else 0.0} for k in shown
        ],
    }


def wave_rows(session: Session, incident_id: int) -> dict[str, Any]:
    """{"waves": [...], "deliveries": {draft id: {status: n}}} for the incident (NotFound if there is none)."""
    get_incident(session, incident_id)
    live = live_counts(session, incident_id)
    rows = []
    for w in wave_status(session, incident_id):
        mine = live.get(w.id or 0, {})
        rows.append(
            {
                "wave": w.id,
                "drafts": w.draft_ids,
                "status": w.status,
                "channel": w.channel,
                "source": w.source_name,
                "started_by": w.started_by,
                "started_at": iso_utc(w.started_at),
                "finished_at": iso_utc(w.finished_at) if w.finished_at else None,
                "counts": w.counts,
                "live": mine,
                "progress": progress(w.status, w.counts, mine),
                "purged": w.purged_at is not None,
            }
        )
    return {"waves": rows, "deliveries": delivery_status_counts(session, incident_id)}


def any_running(view: dict[str, Any]) -> bool:
    return any(row["status"] == WaveStatus.running for row in view["waves"])
