"""The closed vocabularies of an incident. Stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class IncidentKind(StrEnum):
    breach = "breach"
    crisis = "crisis"


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


class IncidentStatus(StrEnum):
    declared = "declared"
    investigating = "investigating"
    contained = "contained"
    notifying = "notifying"
    monitoring = "monitoring"
    closed = "closed"


class Role(StrEnum):
    commander = "commander"
    legal = "legal"
    comms = "comms"
    it = "it"
    dpo = "dpo"
    observer = "observer"
