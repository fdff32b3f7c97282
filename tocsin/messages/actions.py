"""The paging door: acknowledging a page stops its escalation chain; only a person the page reached may."""

from __future__ import annotations

from typing import Any

from tocsin.core.acting import Actor, acting
from tocsin.core.errors import NotFound
from tocsin.core.wakeup import Waker, wake_now
from tocsin.db.engine import session_scope
from tocsin.messages.escalations import acknowledge as record_ack
from tocsin.messages.escalations import escalation_dict
from tocsin.models.escalation import Escalation
from tocsin.people.authorize import Subject, authorize
from tocsin.policy import Action


def acknowledge(actor: Actor, escalation_id: int, *, waker: Waker = wake_now) -> dict[str, Any]:
    with acting(actor), session_scope() as session:
        escalation = session.get(Escalation, escalation_id)
        if escalation is None:
            raise NotFound(f"no escalation E-{escalation_id}")
        subject = Subject(incident_id=escalation.incident_id, escalation=escalation)
        authorize(session, Action.ack, actor, subject)
        data = escalation_dict(record_ack(session, escalation_id, person=actor.handle))
        incident_id = escalation.incident_id
    waker(incident_id)
    return data
