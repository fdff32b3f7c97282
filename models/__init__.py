"""Tocsin's SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from tocsin.models.audit import AuditEvent
from tocsin.models.enums import IncidentKind, IncidentStatus, Role, Severity
from tocsin.models.incident import Incident
from tocsin.models.message import OutboundMessage
from tocsin.models.obligation import Obligation, ReminderSent
from tocsin.models.person import IncidentRole, Person

__all__ = [
    "AuditEvent",
    "Incident",
    "IncidentKind",
    "IncidentRole",
    "IncidentStatus",
    "Obligation",
    "OutboundMessage",
    "Person",
    "ReminderSent",
    "Role",
    "Severity",
]
