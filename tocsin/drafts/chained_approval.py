"""The send gate's second witness: approvals as the tamper-evident timeline records them, not only as rows.

An approval row can be inserted by hand, and a draft's text edited in the database with its hashes recomputed.
Neither can add a keyed `draft.approved` event to the incident's chain without the audit key. So before anything
goes out, the text about to be sent must hash to a sha256 that verified `draft.approved` events of this draft
name, from as many distinct approvers as the draft (or those events) require.

Unkeyed (legacy) events count only where the database's keyed legacy boundary says they may predate the keyed
chain (`tocsin.audit.boundary`): a forged unkeyed `draft.approved` written since is refused, even once keyed
events follow it.
"""

from __future__ import annotations

import re

from sqlmodel import Session

from tocsin.audit.boundary import LegacyBoundary, read_legacy_boundary
from tocsin.audit.keys import verifying_keys
from tocsin.audit.timeline import check_incident, timeline
from tocsin.core.config import get_settings
from tocsin.drafts.drafting import stored_content_hash
from tocsin.models import AuditEvent, Draft, Incident

APPROVALS_OF = re.compile(r"\d+ of (\d+)")


def _required(event: AuditEvent) -> int:
    match = APPROVALS_OF.fullmatch(str(event.payload.get("approvals") or ""))
    return int(match.group(1)) if match else 1


def chained_approvers(
    events: list[AuditEvent], draft_ref: str, sha256: str, boundary: LegacyBoundary
) -> tuple[list[str], int]:
    """(distinct approvers of exactly this content since its last rejection, approvals those events require).
    An unkeyed approval counts only if the legacy boundary admits it (written before the keyed chain)."""
    approvers: list[str] = []
    required = 1
    for event in events:
        if event.payload.get("draft") != draft_ref or event.payload.get("sha256") != sha256:
            continue
        if event.action == "draft.rejected":
            approvers = []
        elif event.action == "draft.approved" and (event.key_id is not None or boundary.admits(event.id or 0)):
            if event.actor not in approvers:
                approvers.append(event.actor)
            required = max(required, _required(event))
    return approvers, required


def chained_approval_refusal(session: Session, draft: Draft) -> str | None:
    """Why the timeline does not back sending this draft's current text, or None if it does."""
    incident = session.get(Incident, draft.incident_id)
    if incident is None:
        return f"{draft.ref}: its incident INC-{draft.incident_id} is gone"
    events = timeline(session, draft.incident_id)
    keys = verifying_keys(get_settings())
    boundary = read_legacy_boundary(session, keys)
    if boundary.problem is not None:
        return f"{draft.ref}: {boundary.problem}; refusing to send (`tocsin audit verify`)"
    report = check_incident(session, incident, keys, boundary, events)
    if report.problems:
        return (
            f"{draft.ref}: the audit timeline of {incident.ref} does not verify ({report.problems[0]}); "
            "refusing to send (`tocsin audit verify`)"
        )
    sha256 = stored_content_hash(draft)
    approvers, required = chained_approvers(events, draft.ref, sha256, boundary)
    required = max(required, draft.approvals_required)
    if len(approvers) < required:
        return (
            f"{draft.ref}: the audit timeline records {len(approvers)} approval(s) of the text about to be sent "
            f"(sha256 {sha256[:12]}; {', '.join(approvers) or 'none'}), it needs {required}: the approval or the "
            "text was changed outside Tocsin; refusing to send"
        )
    return None
