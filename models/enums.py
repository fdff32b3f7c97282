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


# The lifecycles of Tocsin's own records. Columns stay strings (a StrEnum equals its value, so rows, JSON and
# comparisons are unchanged); code compares and assigns these members, never bare strings.


class RunStatus(StrEnum):
    """A playbook run (`PlaybookRun.status`)."""

    running = "running"
    waiting = "waiting"  # for a person, an event or a time (`waiting_for`, `wake_at`)
    completed = "completed"
    failed = "failed"


RUN_FINISHED = frozenset({RunStatus.completed, RunStatus.failed})  # nothing more will run


class StepStatus(StrEnum):
    """One step of a playbook run (`PlaybookStepState.status`)."""

    pending = "pending"  # not run yet
    waiting = "waiting"
    done = "done"
    skipped = "skipped"
    failed = "failed"


STEP_FINISHED = frozenset({StepStatus.done, StepStatus.skipped})  # never run again


class EscalationStatus(StrEnum):
    """An acknowledge-or-escalate chain (`Escalation.status`)."""

    open = "open"  # paging: the next level at `next_at` unless someone acknowledges
    acked = "acked"
    exhausted = "exhausted"  # every level was paged and nobody acknowledged


class WaveStatus(StrEnum):
    """One run of a notice wave (`NoticeWave.status`); a purge is `purged_at`, not a status."""

    running = "running"
    finished = "finished"
    failed = "failed"


class DeliveryStatus(StrEnum):
    """One delivery row (`Delivery.status`): its own status; read it through `tocsin.wave.status`, where a
    `queued` row of an accepted batch reads as `accepted`."""

    queued = "queued"
    accepted = "accepted"
    failed = "failed"  # the send failed (retried by a rerun)
    delivered = "delivered"
    bounced = "bounced"
    dropped = "dropped"
    spamreport = "spamreport"
    unsubscribed = "unsubscribed"
    skipped = "skipped"  # in doubt after a crash, and someone decided not to send it again (`error`: why)


class InDoubtDecision(StrEnum):
    """What is done with a wave's batch that was in flight when its run died (`DeliveryBatch.decision`)."""

    resend = "resend"  # send its rows once more (a duplicate if the provider had taken the request)
    skip = "skip"  # do not send them again: its rows are marked `skipped`, with the reason


class ApprovalDecision(StrEnum):
    """Legal's decision on one content hash (`Approval.decision`)."""

    approved = "approved"
    rejected = "rejected"
