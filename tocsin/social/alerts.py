"""Sentiment alerts into incidents: an alert attaches to the open incident it concerns (timeline and
incident channel); a negativity spike with no open incident proposes the social-crisis playbook to
the on-duty commander, who decides (Tocsin does not launch it alone)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import utcnow
from tocsin.core.config import get_settings
from tocsin.incidents.service import get_incident
from tocsin.messages.queue import queue_to_channel, queue_to_person
from tocsin.models import AuditEvent
from tocsin.people.directory import ensure_person


def describe_alert(alert: dict[str, Any]) -> str:
    share = alert.get("negative_share")
    share_text = f", {share:.0%} negative" if isinstance(share, float) else ""
    return (
        f"{alert['kind']} spike since {alert['window_start']}: {alert['count']} vs about "
        f"{alert['baseline']} expected (score {alert['score']}{share_text})"
    )


def attached_alerts(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """The alerts already on the incident's timeline (their JSON form), oldest first."""
    statement = (
        select(AuditEvent)
        .where(AuditEvent.incident_id == incident_id, AuditEvent.action == "sentiment.alert")
        .order_by(col(AuditEvent.id))
    )
    return [dict(event.payload) for event in session.exec(statement)]


def alert_key(alert: dict[str, Any]) -> tuple[Any, Any]:
    """What makes an alert the same alert again (raised once per incident)."""
    return alert.get("kind"), alert.get("detected_at")


def attach_alert(session: Session, incident_id: int, alert: dict[str, Any], *, source: str) -> None:
    incident = get_incident(session, incident_id)
    append_event(session, incident, actor="sentiment", action="sentiment.alert", payload={**alert, "source": source})
    queue_to_channel(
        session,
        f"#inc-{incident_id}",
        incident_id=incident_id,
        purpose="sentiment",
        subject=f"[{incident.ref}] Sentiment: {alert['kind']} spike",
        body=describe_alert(alert),
        message_id=f"sentiment:{incident_id}:{alert['kind']}:{alert['detected_at']}",
    )


def propose_crisis(session: Session, alert: dict[str, Any], *, brand: str | None = None) -> str | None:
    """Ask the on-duty commander whether to declare a crisis; returns who was asked (None if nobody is on duty)."""
    on_duty = get_settings().on_duty_commander
    if not on_duty or alert["kind"] != "negativity":
        return None
    person, _ = ensure_person(session, on_duty)
    queue_to_person(
        session,
        person,
        incident_id=None,
        purpose="proposal",
        subject=f"Negative spike{' about ' + brand if brand else ''}: declare a crisis?",
        body=(
            f"{describe_alert(alert)}\nSample mentions: {', '.join(alert.get('sample_ids', [])[:5])}\n\n"
            "If this needs a response, declare it and launch the social-crisis playbook:\n"
            f"  tocsin declare --kind crisis --title '...' --playbook social-crisis --as {on_duty}\n"
            "Nothing happens unless you do."
        ),
        message_id=f"proposal:{alert['kind']}:{alert['detected_at']}:{utcnow().date().isoformat()}",
    )
    return person.handle
