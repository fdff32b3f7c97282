"""The sentiment watch's door: raising alerts onto an incident (its timeline and channel) is the commander's or
comms' (or an admin's): an alert is read by the response team as a call to act. Without an incident, an alert is
only a proposal to the on-duty commander, which anyone may raise (anyone may raise the alarm)."""

from __future__ import annotations

from typing import Any

from tocsin.core.acting import Actor, acting
from tocsin.db.engine import session_scope
from tocsin.incidents.service import get_incident
from tocsin.people.authorize import Subject, authorize
from tocsin.policy import Action
from tocsin.social.alerts import alert_key, attach_alert, attached_alerts, propose_crisis


def check_may_raise(actor: Actor, incident_id: int) -> None:
    """Refuse before any mention is read (and record the refusal) when the actor may not raise onto it."""
    with acting(actor), session_scope() as session:
        get_incident(session, incident_id)
        authorize(session, Action.raise_alerts, actor, Subject(incident_id=incident_id))


def raise_alerts(
    actor: Actor, alerts: list[dict[str, Any]], *, incident_id: int | None, brand: str | None, source: str
) -> list[str]:
    """Attach the alerts to the incident (once each), or propose a crisis; returns what was done."""
    done: list[str] = []
    with acting(actor), session_scope() as session:
        if incident_id is None:
            for alert in alerts:
                if asked := propose_crisis(session, alert, brand=brand):
                    done.append(f"proposed a crisis to {asked}")
            return done
        authorize(session, Action.raise_alerts, actor, Subject(incident_id=incident_id))
        seen = {alert_key(a) for a in attached_alerts(session, incident_id)}
        for alert in alerts:
            if alert_key(alert) not in seen:
                attach_alert(session, incident_id, alert, source=source)
                seen.add(alert_key(alert))
                done.append(f"attached to INC-{incident_id}")
    return done
