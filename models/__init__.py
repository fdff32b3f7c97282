"""Tocsin's SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from tocsin.models.api_token import ApiToken
from tocsin.models.audit import AuditEvent, AuditLegacyBoundary
from tocsin.models.checklist import ChecklistItem
from tocsin.models.delivery import Delivery, DeliveryBatch, NoticeWave, Suppression
from tocsin.models.draft import Approval, Draft, DraftRevision, DraftStatus
from tocsin.models.enums import (
    RUN_FINISHED,
    STEP_FINISHED,
    ApprovalDecision,
    DeliveryStatus,
    EscalationStatus,
    IncidentKind,
    IncidentStatus,
    Role,
    RunStatus,
    Severity,
    StepStatus,
    WaveStatus,
)
from tocsin.models.escalation import Escalation
from tocsin.models.incident import Incident
from tocsin.models.login_failure import LoginFailure, ThrottleScope
from tocsin.models.message import OutboundMessage
from tocsin.models.obligation import Obligation, ReminderSent
from tocsin.models.person import IncidentRole, Person
from tocsin.models.playbook_run import PlaybookRun, PlaybookStepState
from tocsin.models.signed_request import SignedDoor, SignedRequestSeen
from tocsin.models.upload import Upload
from tocsin.models.web_session import WebSession

__all__ = [
    "RUN_FINISHED",
    "STEP_FINISHED",
    "ApiToken",
    "Approval",
    "ApprovalDecision",
    "AuditEvent",
    "AuditLegacyBoundary",
    "ChecklistItem",
    "Delivery",
    "DeliveryBatch",
    "DeliveryStatus",
    "Draft",
    "DraftRevision",
    "DraftStatus",
    "Escalation",
    "EscalationStatus",
    "Incident",
    "IncidentKind",
    "IncidentRole",
    "IncidentStatus",
    "LoginFailure",
    "NoticeWave",
    "Obligation",
    "OutboundMessage",
    "Person",
    "PlaybookRun",
    "PlaybookStepState",
    "ReminderSent",
    "Role",
    "RunStatus",
    "Severity",
    "SignedDoor",
    "SignedRequestSeen",
    "StepStatus",
    "Suppression",
    "ThrottleScope",
    "Upload",
    "WaveStatus",
    "WebSession",
]
